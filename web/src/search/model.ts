// What the search box computes apart from the page: the query it sends, the answer grouped by
// kind, the highlighted parts of titles and snippets, the filters offered and where a hit opens.

import type { HighlightPart, SearchItem, SearchKind, SearchLink } from '../types';

/** The kinds in the order their groups are shown. */
export const KIND_ORDER: SearchKind[] = ['customer', 'message', 'file', 'transcript', 'announcement'];

/** The kinds a reader can find: a customer searches their own conversations, files, inbox and calls. */
export function kindsFor(reader: 'agent' | 'customer'): SearchKind[] {
  return reader === 'agent' ? KIND_ORDER : KIND_ORDER.filter((k) => k !== 'customer');
}

const HEADINGS: Record<SearchKind, [string, string]> = {
  customer: ['Customer', 'Customers'],
  message: ['Message', 'Messages'],
  file: ['File', 'Files'],
  transcript: ['Call transcript', 'Call transcripts'],
  announcement: ['Announcement', 'Announcements'],
};

/** "Messages": a group's heading. */
export function kindHeading(kind: SearchKind): string {
  return HEADINGS[kind]?.[1] ?? kind;
}

/** "1 message", "12 call transcripts". */
export function kindCount(kind: SearchKind, n: number): string {
  const [one, many] = HEADINGS[kind] ?? [kind, kind];
  return `${n} ${(n === 1 ? one : many).toLowerCase()}`;
}

/** What the person chose: the words as typed, one kind or all, a range of days, the order. */
export interface SearchFilters {
  q: string;
  kind: SearchKind | '';
  /** Days as a date field gives them (`2026-12-05`), both included; '' for none. */
  from: string;
  to: string;
  sort: 'relevance' | 'date';
}

export const NO_FILTERS: Omit<SearchFilters, 'q'> = { kind: '', from: '', to: '', sort: 'relevance' };

/** The API takes 1 to 256 characters. */
export const MAX_QUERY = 256;

/** Whether there is anything to search for. */
export function hasWords(q: string): boolean {
  return q.trim().length > 0;
}

/** The local midnight that starts a day (`2026-12-05`), as an RFC 3339 time; undefined for no day. */
export function dayStart(day: string, after = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day.trim());
  if (!m) return undefined;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + after);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * The query parameters of GET /v1/search. The words go as typed (leading spaces aside): without a
 * space after it, the last word is still being typed and matches as the start of a word.
 */
export function searchParams(f: SearchFilters, page: { cursor?: string | null; limit?: number } = {}): Record<string, string> {
  const params: Record<string, string> = { q: f.q.replace(/^\s+/, '').slice(0, MAX_QUERY) };
  if (f.kind) params.kind = f.kind;
  const from = dayStart(f.from);
  // The day chosen as the last one is included: the range ends when the next day starts.
  const to = dayStart(f.to, 1);
  if (from) params.from = from;
  if (to) params.to = to;
  if (f.sort === 'date') params.sort = 'date';
  if (page.limit) params.limit = String(page.limit);
  if (page.cursor) params.cursor = page.cursor;
  return params;
}

/** A title's or snippet's parts as given, joined where neighbours are alike, without empty ones. */
export function highlightParts(parts: unknown): HighlightPart[] {
  if (!Array.isArray(parts)) return [];
  const out: HighlightPart[] = [];
  for (const p of parts) {
    const text = (p as HighlightPart | null)?.text;
    if (typeof text !== 'string' || text === '') continue;
    const hit = (p as HighlightPart).hit === true;
    const last = out[out.length - 1];
    if (last && !!last.hit === hit) last.text += text;
    else out.push(hit ? { text, hit: true } : { text });
  }
  return out;
}

/** The parts as plain text. */
export function partsText(parts: HighlightPart[]): string {
  return parts.map((p) => p.text).join('');
}

/** A hit's title as parts: its highlighted title, or its plain title. */
export function titleParts(item: SearchItem): HighlightPart[] {
  const marked = highlightParts(item.title_highlight);
  if (marked.length > 0) return marked;
  return item.title ? [{ text: item.title }] : [];
}

export interface Group {
  kind: SearchKind;
  items: SearchItem[];
}

/** Hits grouped by kind, in KIND_ORDER, each group in the order the answer ranked them. */
export function groupByKind(items: SearchItem[]): Group[] {
  const byKind = new Map<SearchKind, SearchItem[]>();
  for (const item of items) {
    const list = byKind.get(item.kind);
    if (list) list.push(item);
    else byKind.set(item.kind, [item]);
  }
  const known = KIND_ORDER.filter((k) => byKind.has(k)).map((kind) => ({ kind, items: byKind.get(kind)! }));
  // A kind this client does not know yet still shows, after the others.
  const other = [...byKind.keys()].filter((k) => !KIND_ORDER.includes(k)).map((kind) => ({ kind, items: byKind.get(kind)! }));
  return [...known, ...other];
}

/** A further page added to what is shown: each hit once. */
export function mergeItems(shown: SearchItem[], more: SearchItem[]): SearchItem[] {
  const seen = new Set(shown.map((i) => i.id));
  return [...shown, ...more.filter((i) => !seen.has(i.id) && seen.add(i.id))];
}

/** Matches of every kind. */
export function facetTotal(facets: Partial<Record<SearchKind, number>> | null | undefined): number {
  return Object.values(facets ?? {}).reduce<number>((n, v) => n + (typeof v === 'number' && v > 0 ? v : 0), 0);
}

export interface Chip {
  kind: SearchKind | '';
  label: string;
  count: number;
  pressed: boolean;
}

/** The kind filter: All, then each kind that has matches (and the one chosen, even without). */
export function chips(facets: Partial<Record<SearchKind, number>> | null | undefined, chosen: SearchKind | '', reader: 'agent' | 'customer'): Chip[] {
  const f = facets ?? {};
  const out: Chip[] = [{ kind: '', label: 'All', count: facetTotal(f), pressed: chosen === '' }];
  for (const kind of kindsFor(reader)) {
    const count = f[kind] ?? 0;
    if (count > 0 || kind === chosen) out.push({ kind, label: kindHeading(kind), count, pressed: kind === chosen });
  }
  return out;
}

/** What the status line says about an answer. */
export function resultsText(total: number, shown: number, q: string): string {
  if (total === 0) return `Nothing found for “${q.trim()}”.`;
  const found = total === 1 ? '1 result' : `${total} results`;
  return shown < total ? `${found}, ${shown} shown.` : `${found}.`;
}

/** Where a hit opens, as the client's address (`#/…`); null when it opens nowhere for this reader. */
export function hitHref(item: Pick<SearchItem, 'kind' | 'link' | 'session_id' | 'customer_id'>, reader: 'agent' | 'customer'): string | null {
  const link: SearchLink = item.link ?? {};
  const enc = encodeURIComponent;
  const query = (params: Record<string, string | number | undefined | null>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    return s ? `?${s}` : '';
  };
  switch (item.kind) {
    case 'message':
    case 'file': {
      const session = link.session_id ?? item.session_id;
      if (!session) return null;
      const seq = Number.isInteger(link.seq) ? link.seq : undefined;
      return `${reader === 'agent' ? '#/sessions/' : '#/chat/'}${enc(session)}${query({ seq })}`;
    }
    case 'transcript': {
      if (!link.recording_id) return null;
      const ms = typeof link.offset_ms === 'number' && link.offset_ms >= 0 ? Math.floor(link.offset_ms) : undefined;
      return `${reader === 'agent' ? '#/recordings/' : '#/chat/recordings/'}${enc(link.recording_id)}${query({ t: ms, lang: link.language })}`;
    }
    case 'announcement':
      if (!link.announcement_id) return null;
      return reader === 'agent' ? `#/announcements${query({ show: link.announcement_id })}` : `#/chat${query({ announcement: link.announcement_id })}`;
    case 'customer': {
      const id = link.customer_id ?? item.customer_id;
      return reader === 'agent' && id ? `#/customers/${enc(id)}` : null;
    }
    default:
      return null;
  }
}

/** A whole number from the address's query (`seq`, `t`), or null. */
export function wholeNumber(value: string | null | undefined): number | null {
  if (value === null || value === undefined || !/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}
