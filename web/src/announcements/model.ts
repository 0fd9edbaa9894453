// The rules of announcements the pages follow, kept apart from the DOM: when to send, how a
// count reads, how often the list is read again, what a file is declared as.

import type { Announcement, AnnouncementStatus, AudiencePreview, InboxEntry } from '../types';

/** What Confer counts of unread announcements at most (`unread_more` past it). */
export const MAX_UNREAD_COUNTED = 1000;

const pad = (n: number) => String(n).padStart(2, '0');

/** A time as a `datetime-local` input holds it: the browser's local time, to the minute. */
export function toLocalInput(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * The `send_at` of a `datetime-local` value (local time, as the agent reads their clock): RFC 3339
 * in UTC, to the second; or why it cannot be sent then.
 */
export function sendAtFromLocal(value: string, now: Date = new Date()): { sendAt: string } | { error: string } {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return { error: 'Choose the day and time to send it.' };
  const [, y, mo, d, hh, mi, ss] = m;
  const at = new Date(Number(y), Number(mo) - 1, Number(d), Number(hh), Number(mi), Number(ss ?? 0));
  // A day that does not exist (31 April) rolls over: refuse it rather than send on another day.
  if (Number.isNaN(at.getTime()) || at.getMonth() !== Number(mo) - 1 || at.getDate() !== Number(d)) {
    return { error: 'That day does not exist.' };
  }
  if (at.getTime() <= now.getTime()) return { error: 'That time has passed. Choose a time ahead, or send it now.' };
  if (at.getTime() > now.getTime() + 365 * 24 * 3600 * 1000) return { error: 'An announcement can be scheduled at most a year ahead.' };
  return { sendAt: at.toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

/** The unread badge: the count, or "1000+" when there are more than Confer counts. */
export function badgeText(unread: number, more: boolean): string {
  return more ? `${unread}+` : String(unread);
}

export function unreadAnnouncementsLabel(unread: number, more: boolean): string {
  if (more) return `more than ${unread} unread announcements`;
  return unread === 1 ? '1 unread announcement' : `${unread} unread announcements`;
}

export interface UnreadCount {
  unread: number;
  more: boolean;
}

/** One more unread: past the counted limit it reads "1000+". */
export function oneMoreUnread(c: UnreadCount): UnreadCount {
  if (c.more || c.unread + 1 > MAX_UNREAD_COUNTED) return { unread: Math.min(c.unread, MAX_UNREAD_COUNTED), more: true };
  return { unread: c.unread + 1, more: false };
}

/** One fewer unread; beyond the limit the exact count is unknown, so "1000+" stays until read again. */
export function oneLessUnread(c: UnreadCount): UnreadCount {
  if (c.more) return c;
  return { unread: Math.max(0, c.unread - 1), more: false };
}

/** An entry arrived (a frame, or a page read again): newest first, each once, the newer copy kept. */
export function mergeEntries(list: InboxEntry[], incoming: InboxEntry[]): InboxEntry[] {
  const byId = new Map(list.map((e) => [e.announcement_id, e] as const));
  for (const e of incoming) {
    const old = byId.get(e.announcement_id);
    // A read entry stays read (a frame may carry the entry as it was when delivered).
    byId.set(e.announcement_id, old?.read_at && !e.read_at ? { ...e, read_at: old.read_at } : e);
  }
  return [...byId.values()].sort((a, b) => (a.published_at < b.published_at ? 1 : a.published_at > b.published_at ? -1 : b.announcement_id.localeCompare(a.announcement_id)));
}

export const STATUS_TEXT: Record<AnnouncementStatus, string> = {
  scheduled: 'Scheduled',
  expanding: 'Finding recipients',
  sending: 'Sending',
  sent: 'Sent',
  cancelled: 'Cancelled',
};

/** Whether an announcement is on its way (its counts are about to change). */
export function inFlight(a: Pick<Announcement, 'status' | 'send_at'>, now: number = Date.now()): boolean {
  if (a.status === 'expanding' || a.status === 'sending') return true;
  return a.status === 'scheduled' && Date.parse(a.send_at) <= now + 2000;
}

/** Polling while the list changes: every 2 s while one is on its way, else until the next schedule. */
export const FAST_POLL_MS = 2000;
/** While reads of a recent announcement come in. */
export const SLOW_POLL_MS = 15_000;

/**
 * How long until the list is read again, or null to stop: fast while one is being sent, at a
 * scheduled one's time (within 30 s), slowly for an hour after one was sent (reads arrive).
 */
export function nextPollMs(items: Pick<Announcement, 'status' | 'send_at' | 'sent_at'>[], now: number = Date.now()): number | null {
  let next: number | null = null;
  const take = (ms: number) => (next = next === null ? ms : Math.min(next, ms));
  for (const a of items) {
    if (inFlight(a, now)) take(FAST_POLL_MS);
    else if (a.status === 'scheduled') take(Math.min(30_000, Math.max(FAST_POLL_MS, Date.parse(a.send_at) - now)));
    else if (a.status === 'sent' && a.sent_at && now - Date.parse(a.sent_at) < 3600_000) take(SLOW_POLL_MS);
  }
  return next;
}

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Who an audience reaches, in a sentence: "Reaches 2 customers (1 chosen one by one; VIP: 1 member)." */
export function audienceSentence(p: AudiencePreview): string {
  const parts: string[] = [];
  if (p.customers > 0) parts.push(`${p.customers} chosen one by one`);
  for (const g of p.groups) parts.push(`${g.name}: ${count(g.members, 'member')}`);
  const named = p.customers + p.groups.reduce((n, g) => n + g.members, 0);
  const once = named > p.recipients ? ' Each customer gets it once.' : '';
  return `Reaches ${count(p.recipients, 'customer')}${parts.length ? ` (${parts.join('; ')})` : ''}.${once}`;
}

/** The type a video or audio file is declared as: the browser's, else one read from its name. */
export function mediaContentType(file: { name: string; type: string }): string {
  if (file.type) return file.type;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  const byExt: Record<string, string> = {
    mp4: 'video/mp4',
    m4v: 'video/mp4',
    mov: 'video/quicktime',
    webm: 'video/webm',
    m4a: 'audio/mp4',
    aac: 'audio/aac',
    mp3: 'audio/mpeg',
    ogg: 'audio/ogg',
    opus: 'audio/ogg',
    oga: 'audio/ogg',
    wav: 'audio/wav',
  };
  return byExt[ext] ?? 'application/octet-stream';
}

/** An API refusal as a sentence for the composer, with what to do where that is clear. */
export function explainRefusal(code: string, message: string, what = 'The announcement was not sent'): string {
  const words = message.trim().replace(/[.;]+$/, '');
  const advice: Record<string, string> = {
    unknown_customers: ' Remove them from the audience and try again.',
    unknown_groups: ' The group may have been deleted; reload the page and choose again.',
  };
  return `${what}: ${words}.${advice[code] ?? ''}`;
}
