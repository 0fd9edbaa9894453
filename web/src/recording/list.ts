// The recordings of a customer's calls, newest first, on the customer's page: each with its
// state and its transcript's, opening the recording's page. Read again while one is changing.

import { describeError } from '../api';
import type { Ctx } from '../app';
import { h, replaceChildren, type Scope } from '../dom';
import { formatDuration, formatDateTime, joinNames } from '../format';
import { VIDEO_APP_NAMES } from '../chat/message';
import type { Recording } from '../types';
import { recordingStatusText, settling, transcriptStatusText } from './transcript';

const POLL_MS = 4000;

export function recordingRow(r: Recording, href = `#/recordings/${r.id}`): HTMLLIElement {
  const people = r.tracks.map((t) => t.name || t.track);
  const length = formatDuration(r.duration_ms);
  return h(
    'li',
    { class: 'recording-item', dataset: { recording: r.id, status: r.status, transcript: r.transcript?.status ?? '' } },
    h('a', { href, class: 'recording-link' }, `Recording of ${formatDateTime(r.started_at)}`),
    ' ',
    h('span', { class: `status rec-status rec-status-${r.status}` }, recordingStatusText(r)),
    h(
      'p',
      { class: 'muted small' },
      [r.provider ? `recorded in ${VIDEO_APP_NAMES[r.provider]}` : null, length ? `${length}` : null, people.length ? `with ${joinNames(people)}` : null, transcriptStatusText(r.transcript)].filter(Boolean).join(' · '),
    ),
  );
}

export function recordingsCard(ctx: Ctx, customerId: string, scope: Scope): HTMLElement {
  const list = h('ul', { class: 'plain-list recording-list' });
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const more = h('button', { type: 'button', class: 'button secondary small', hidden: true }, 'Show more');
  let cursor: string | null = null;
  let items: Recording[] = [];
  let timer = false;

  async function load(): Promise<void> {
    try {
      // The first page again (new recordings, new states), keeping as many as were shown.
      const page = await ctx.api.customerRecordings(customerId, { limit: Math.max(20, items.length) });
      items = page.items;
      cursor = page.next_cursor ?? null;
      paint();
    } catch (e) {
      status.textContent = `The recordings could not be loaded: ${describeError(e)}`;
    }
  }

  async function loadMore(): Promise<void> {
    if (!cursor) return;
    more.disabled = true;
    try {
      const page = await ctx.api.customerRecordings(customerId, { cursor, limit: 20 });
      items = [...items, ...page.items.filter((r) => !items.some((x) => x.id === r.id))];
      cursor = page.next_cursor ?? null;
      paint();
    } catch (e) {
      status.textContent = `More recordings could not be loaded: ${describeError(e)}`;
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', () => void loadMore());

  function paint(): void {
    replaceChildren(list, items.map((r) => recordingRow(r)));
    status.textContent = items.length === 0 ? 'No recordings. An agent records a call from the call itself.' : '';
    more.hidden = !cursor;
    if (items.some(settling) && !timer && !scope.disposed) {
      timer = true;
      scope.timeout(() => {
        timer = false;
        void load();
      }, POLL_MS);
    }
  }

  const off = ctx.live?.on((e) => {
    if (e.type === 'message' && e.message.kind === 'call' && e.message.call?.event?.startsWith('recording_')) void load();
  });
  if (off) scope.add(off);
  void load();
  return h('section', { class: 'card', 'aria-labelledby': 'recordings-h' }, h('h2', { id: 'recordings-h' }, 'Recordings'), status, list, more);
}

/**
 * A customer's recordings of one conversation, in their chat: shown only when the business
 * shares recordings with its customers (otherwise Confer answers 403 and nothing shows).
 */
export function customerRecordings(ctx: Ctx, sessionId: string, scope: Scope): HTMLElement {
  const list = h('ul', { class: 'plain-list recording-list' });
  const summary = h('summary', null, 'Recordings of this conversation');
  const el = h('details', { class: 'conversations customer-recordings', hidden: true }, summary, list);
  const load = async () => {
    try {
      const me = ctx.identity?.id;
      if (!me) return;
      const page = await ctx.api.customerRecordings(me, { limit: 100 });
      const shown = page.items.filter((r) => r.session_id === sessionId && r.status !== 'recording');
      replaceChildren(list, shown.map((r) => recordingRow(r, `#/chat/recordings/${r.id}`)));
      summary.textContent = `Recordings of this conversation (${shown.length})`;
      el.hidden = shown.length === 0;
    } catch {
      el.hidden = true;
    }
  };
  const off = ctx.live?.on((e) => {
    if (e.type === 'message' && e.message.session_id === sessionId && e.message.call?.event === 'recording_stopped') scope.timeout(() => void load(), 3000);
  });
  if (off) scope.add(off);
  void load();
  return el;
}
