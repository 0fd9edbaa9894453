// The search box in the top bar, for agents and customers: typing searches (the last word as
// the start of a word while it is typed), the hits grouped by kind with their counts and the
// words that matched marked, a kind filter, for agents a range of days and the order, more
// hits on request. A hit opens where it was found. "/" anywhere outside a field goes to the box.

import { describeError } from '../api';
import { shellParts, type Ctx } from '../app';
import { h, replaceChildren, type Scope, srOnly, uid } from '../dom';
import { formatDateTime } from '../format';
import { clock } from '../recording/transcript';
import type { HighlightPart, SearchItem, SearchKind } from '../types';
import {
  chips,
  groupByKind,
  hasWords,
  highlightParts,
  hitHref,
  kindCount,
  kindHeading,
  MAX_QUERY,
  mergeItems,
  NO_FILTERS,
  resultsText,
  titleParts,
  searchParams,
  type SearchFilters,
} from './model';

/** How long typing pauses before the words are searched. */
export const DEBOUNCE_MS = 250;
const PAGE = 20;

type Reader = 'agent' | 'customer';

interface Shown {
  filters: SearchFilters;
  items: SearchItem[];
  total: number;
  facets: Partial<Record<SearchKind, number>>;
  next: string | null;
}

/** Marked words as <mark>, the rest as text (never parsed as markup). */
export function renderParts(parts: HighlightPart[]): (Node | string)[] {
  return parts.map((p) => (p.hit ? h('mark', null, p.text) : p.text));
}

function typingInField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.isContentEditable;
}

export function searchBox(ctx: Ctx, scope: Scope, reader: Reader): HTMLElement {
  const inputId = uid('search');
  const panelId = uid('search-panel');
  const input = h('input', {
    id: inputId,
    type: 'search',
    class: 'search-input',
    placeholder: reader === 'agent' ? 'Search everything' : 'Search your messages',
    autocomplete: 'off',
    maxLength: MAX_QUERY,
    enterKeyHint: 'search',
    'aria-keyshortcuts': '/',
    'aria-controls': panelId,
  });
  input.spellcheck = false;
  const key = h('kbd', { class: 'search-key', 'aria-hidden': 'true' }, '/');

  // ---- the panel: filters, status, hits ----
  const kinds = h('div', { class: 'search-kinds', role: 'group', 'aria-label': 'Kind' });
  const from = h('input', { type: 'date', class: 'search-date' });
  const to = h('input', { type: 'date', class: 'search-date' });
  const sort = h('select', { class: 'search-sort' }, h('option', { value: 'relevance' }, 'Best match'), h('option', { value: 'date' }, 'Newest first'));
  const small = (label: string, control: HTMLInputElement | HTMLSelectElement) => {
    control.id = uid('search-f');
    return h('div', { class: 'search-field' }, h('label', { for: control.id }, label), control);
  };
  const refine =
    reader === 'agent' ? h('div', { class: 'search-refine' }, small('From', from), small('To', to), small('Order', sort)) : null;
  const status = h('p', { class: 'search-status', role: 'status' });
  const error = h('p', { class: 'form-error search-error', role: 'alert' });
  const hint = h('div', { class: 'search-empty', hidden: true });
  const results = h('div', { class: 'search-results' });
  const more = h('button', { type: 'button', class: 'button secondary small search-more', hidden: true }, 'More results');
  const close = h('button', { type: 'button', class: 'link small search-close' }, 'Close', srOnly(' search'));
  const panel = h(
    'div',
    { id: panelId, class: 'search-panel', role: 'region', 'aria-label': 'Search results', hidden: true },
    h('div', { class: 'search-panel-head' }, kinds, close),
    refine,
    status,
    error,
    hint,
    results,
    more,
  );
  const el = h(
    'div',
    { class: `site-search site-search-${reader}`, role: 'search', dataset: { open: 'false' } },
    h('label', { for: inputId, class: 'sr-only' }, 'Search'),
    h('div', { class: 'search-field-box' }, input, key),
    panel,
  );

  let filters: SearchFilters = { q: '', ...NO_FILTERS };
  let shown: Shown | null = null;
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  scope.add(() => timer && clearTimeout(timer));

  // Customers' names beside their messages (agents): read once each.
  const names = new Map<string, Promise<string | null>>();
  const customerName = (id: string) => {
    let name = names.get(id);
    if (!name) {
      name = ctx.api.customer(id).then((c) => c.name, () => null);
      names.set(id, name);
    }
    return name;
  };

  // ---- open and close ----
  function open(): void {
    if (!panel.hidden) return;
    panel.hidden = false;
    el.dataset.open = 'true';
    place();
  }
  /** Below the box, inside the window: as wide as there is room for, up to 44 rem. */
  function place(): void {
    if (panel.hidden) return;
    const box = el.getBoundingClientRect();
    const wide = document.documentElement.clientWidth;
    const margin = wide < 600 ? 8 : 16;
    const width = Math.min(704, wide - 2 * margin);
    const left = Math.max(margin, Math.min(box.left, wide - margin - width));
    panel.style.left = `${left}px`;
    panel.style.width = `${width}px`;
    panel.style.top = `${box.bottom + 6}px`;
    panel.style.maxHeight = `${Math.max(160, window.innerHeight - box.bottom - 6 - margin)}px`;
  }
  scope.listen(window, 'resize', place);
  function shut(): void {
    if (panel.hidden) return;
    panel.hidden = true;
    el.dataset.open = 'false';
  }
  // Back to the box without opening the panel again (focusing the box opens it).
  let quiet = false;
  const backToBox = () => {
    quiet = true;
    input.focus();
    quiet = false;
  };
  close.addEventListener('click', () => {
    shut();
    backToBox();
  });
  scope.listen(window, 'hashchange', shut);
  scope.listen(document, 'pointerdown', (e) => {
    if (!el.contains(e.target as Node)) shut();
  });
  el.addEventListener('focusout', (e) => {
    const next = e.relatedTarget as Node | null;
    if (next && !el.contains(next)) shut();
  });
  input.addEventListener('focus', () => {
    if (!quiet && hasWords(input.value)) open();
  });
  scope.listen(document, 'keydown', ((e: KeyboardEvent) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    if (typingInField(e.target) || document.querySelector('dialog[open]')) return;
    e.preventDefault();
    input.focus();
    input.select();
  }) as EventListener);

  // ---- keys: Escape closes, arrows move between the box and the hits ----
  const hitLinks = () => [...results.querySelectorAll<HTMLAnchorElement>('a.search-hit')];
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      if (!panel.hidden) {
        e.preventDefault();
        shut();
        backToBox();
      }
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const links = hitLinks();
    const target = e.target as HTMLElement;
    if (target === input) {
      if (e.key !== 'ArrowDown' || links.length === 0) return;
      e.preventDefault();
      open();
      links[0].focus();
      return;
    }
    const i = links.indexOf(target as HTMLAnchorElement);
    if (i < 0) return;
    e.preventDefault();
    if (e.key === 'ArrowDown') links[Math.min(i + 1, links.length - 1)].focus();
    else if (i === 0) input.focus();
    else links[i - 1].focus();
  });

  // ---- searching ----
  input.addEventListener('input', () => {
    filters = { ...filters, q: input.value };
    if (timer) clearTimeout(timer);
    timer = null;
    if (!hasWords(input.value)) {
      generation++;
      shown = null;
      shut();
      paint();
      return;
    }
    open();
    timer = setTimeout(() => {
      timer = null;
      void run();
    }, DEBOUNCE_MS);
  });
  // Enter searches at once (nothing to submit).
  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.isComposing) return;
    e.preventDefault();
    if (!hasWords(input.value)) return;
    if (timer) clearTimeout(timer);
    timer = null;
    open();
    void run();
  });
  const refilter = () => {
    filters = { ...filters, from: from.value, to: to.value, sort: sort.value === 'date' ? 'date' : 'relevance' };
    if (hasWords(filters.q)) void run();
  };
  from.addEventListener('change', refilter);
  to.addEventListener('change', refilter);
  sort.addEventListener('change', refilter);

  async function run(): Promise<void> {
    const mine = ++generation;
    const asked = { ...filters };
    results.setAttribute('aria-busy', 'true');
    if (!shown) status.textContent = 'Searching…';
    try {
      const answer = await ctx.api.search(searchParams(asked, { limit: PAGE }));
      if (mine !== generation || scope.disposed) return;
      shown = { filters: asked, items: answer.items ?? [], total: answer.total ?? 0, facets: answer.facets ?? {}, next: answer.next_cursor ?? null };
      error.textContent = '';
      paint();
      results.scrollTop = 0;
    } catch (e) {
      if (mine !== generation || scope.disposed) return;
      shown = null;
      paint();
      status.textContent = '';
      // The API's own words (a query it refuses says why).
      error.textContent = describeError(e);
    } finally {
      if (mine === generation) results.removeAttribute('aria-busy');
    }
  }

  more.addEventListener('click', async () => {
    const was = shown;
    if (!was?.next) return;
    const mine = generation;
    more.disabled = true;
    more.textContent = 'Loading more results…';
    try {
      const answer = await ctx.api.search(searchParams(was.filters, { limit: PAGE, cursor: was.next }));
      if (mine !== generation || shown !== was) return;
      const before = new Set(was.items.map((i) => i.id));
      shown = { ...was, items: mergeItems(was.items, answer.items ?? []), next: answer.next_cursor ?? null, facets: answer.facets ?? was.facets, total: answer.total ?? was.total };
      paint();
      // Keyboard users go on from the first new hit.
      const first = hitLinks().find((a) => !before.has(a.dataset.id ?? ''));
      first?.focus();
    } catch (e) {
      if (mine !== generation) return;
      error.textContent = `More results could not be loaded: ${describeError(e)}`;
    } finally {
      more.disabled = false;
      more.textContent = 'More results';
    }
  });

  // ---- painting ----
  function paintKinds(): void {
    const focused = kinds.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset.kind : undefined;
    if (!shown) {
      replaceChildren(kinds);
      return;
    }
    replaceChildren(
      kinds,
      chips(shown.facets, filters.kind, reader).map((c) =>
        h(
          'button',
          {
            type: 'button',
            class: 'search-chip',
            'aria-pressed': String(c.pressed),
            dataset: { kind: c.kind },
            onclick: () => {
              if (filters.kind === c.kind) return;
              filters = { ...filters, kind: c.kind };
              paintKinds();
              void run();
            },
          },
          c.label,
          h('span', { class: 'search-chip-count' }, srOnly(': '), String(c.count)),
        ),
      ),
    );
    if (focused !== undefined) kinds.querySelector<HTMLElement>(`button[data-kind="${focused}"]`)?.focus();
  }

  function meta(item: SearchItem): HTMLElement {
    const parts: HTMLElement[] = [];
    if (reader === 'agent' && item.kind !== 'customer' && item.customer_id) {
      // The customer's name comes later; it goes (with its separator) when there is none.
      const name = h('span', { class: 'search-hit-customer' });
      void customerName(item.customer_id).then((n) => {
        if (n) name.textContent = n;
        else {
          (name.nextElementSibling as HTMLElement | null)?.classList.contains('search-sep') && name.nextElementSibling?.remove();
          name.remove();
        }
      });
      parts.push(name);
    }
    if (reader === 'customer' && (item.kind === 'message' || item.kind === 'file') && item.session_id) {
      const subject = ctx.live?.sessionItem(item.session_id)?.subject;
      if (subject) parts.push(h('span', null, subject));
    }
    if (item.kind === 'transcript') {
      if (item.speaker) parts.push(h('span', null, item.speaker));
      if (typeof item.link?.offset_ms === 'number') parts.push(h('span', null, `at ${clock(item.link.offset_ms)}`));
    }
    const when = formatDateTime(item.at);
    if (when) parts.push(h('time', { dateTime: item.at ?? '' }, when));
    const line = h('span', { class: 'search-hit-meta' });
    parts.forEach((p, i) => {
      if (i > 0) line.append(h('span', { class: 'search-sep', 'aria-hidden': 'true' }, ' · '));
      line.append(p);
    });
    return line;
  }

  function hit(item: SearchItem): HTMLLIElement {
    const title = titleParts(item);
    const snippet = highlightParts(item.snippet);
    const href = hitHref(item, reader);
    const body = [
      title.length ? h('span', { class: 'search-hit-title' }, renderParts(title)) : null,
      snippet.length ? h('span', { class: 'search-hit-snippet' }, renderParts(snippet)) : null,
      meta(item),
    ];
    const box = href
      ? h('a', { class: 'search-hit', href, dataset: { id: item.id, kind: item.kind } }, body)
      : h('div', { class: 'search-hit', dataset: { id: item.id, kind: item.kind } }, body);
    if (href) {
      (box as HTMLElement).addEventListener('click', (e: MouseEvent) => {
        if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        shut();
        // Opened even when it is the page already shown (moved to the same message again).
        ctx.navigate(href);
      });
    }
    return h('li', null, box);
  }

  function paint(): void {
    paintKinds();
    hint.hidden = true;
    replaceChildren(hint);
    if (!shown) {
      status.textContent = '';
      replaceChildren(results);
      more.hidden = true;
      return;
    }
    const s = shown;
    const total = s.filters.kind ? s.facets[s.filters.kind] ?? s.total : s.total;
    status.textContent = resultsText(total, s.items.length, s.filters.q);
    if (s.items.length === 0) {
      const filtered = !!(s.filters.kind || s.filters.from || s.filters.to);
      hint.hidden = false;
      replaceChildren(
        hint,
        h('p', null, 'Check the spelling, or try fewer or other words. A word of five letters or more is found with one typo.'),
        filtered
          ? h(
              'p',
              null,
              h(
                'button',
                {
                  type: 'button',
                  class: 'button secondary small',
                  onclick: () => {
                    from.value = '';
                    to.value = '';
                    filters = { ...filters, kind: '', from: '', to: '' };
                    void run();
                    input.focus();
                  },
                },
                'Search all kinds and dates',
              ),
            )
          : null,
      );
    }
    replaceChildren(
      results,
      groupByKind(s.items).map((g) => {
        const headingId = uid('search-g');
        const count = s.facets[g.kind] ?? g.items.length;
        return h(
          'section',
          { class: 'search-group', 'aria-labelledby': headingId, dataset: { kind: g.kind } },
          h('h2', { id: headingId, class: 'search-group-title' }, kindHeading(g.kind), ' ', h('span', { class: 'search-count' }, h('span', { 'aria-hidden': 'true' }, String(count)), srOnly(`(${kindCount(g.kind, count)})`))),
          h('ul', { class: 'search-hits' }, g.items.map(hit)),
        );
      }),
    );
    more.hidden = !s.next;
  }

  return el;
}

shellParts.search = searchBox;
