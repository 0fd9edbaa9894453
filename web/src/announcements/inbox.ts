// The customer's inbox beside their chat: the business's announcements, newest first, with the
// unread count; one opened shows its whole text and plays its video or audio, and is marked
// read. A new one arrives over the socket and goes on top.

import { describeError } from '../api';
import type { Ctx } from '../app';
import { h, replaceChildren, type Scope, srOnly, uid } from '../dom';
import { formatDateTime, formatDuration } from '../format';
import { safeUrl } from '../chat/message';
import type { InboxEntry, MediaSummary, OpenedAnnouncement } from '../types';
import { badgeText, mergeEntries, oneLessUnread, oneMoreUnread, unreadAnnouncementsLabel, type UnreadCount } from './model';

const PAGE = 20;

function mediaLine(m: MediaSummary | null | undefined): string | null {
  if (!m) return null;
  const length = formatDuration(m.duration_ms);
  return `${m.kind === 'video' ? 'Video' : 'Audio'}${length ? ` ${length}` : ''}`;
}

export interface InboxOptions {
  /** An announcement to open once the inbox is read (a search hit). */
  open?: string | null;
}

export function inboxPanel(ctx: Ctx, scope: Scope, options: InboxOptions = {}): HTMLElement {
  let entries: InboxEntry[] = [];
  let cursor: string | null = null;
  let count: UnreadCount = { unread: 0, more: false };
  let loaded = false;
  let loading = false;
  // Unread entries that came over the socket while a page was being read.
  const arrivedDuringLoad = new Set<string>();

  const bodyId = uid('inbox');
  const headingId = uid('inbox-h');
  const badgeNumber = h('span', { 'aria-hidden': 'true' });
  const badgeWords = srOnly('');
  const badge = h('span', { class: 'badge inbox-badge', dataset: { unread: '0' }, hidden: true }, badgeNumber, badgeWords);
  const wide = typeof matchMedia === 'function' && matchMedia('(min-width: 900px)').matches;
  const toggle = h(
    'button',
    { type: 'button', class: 'inbox-toggle', 'aria-expanded': String(wide), 'aria-controls': bodyId },
    h('span', { class: 'inbox-toggle-text' }, 'Inbox'),
    badge,
    h('span', { class: 'inbox-chevron', 'aria-hidden': 'true' }),
  );
  const status = h('p', { class: 'muted small inbox-status', role: 'status' }, 'Loading…');
  const arrivals = h('p', { class: 'sr-only', role: 'status' });
  const list = h('ul', { class: 'inbox-list', 'aria-labelledby': headingId });
  const more = h('button', { type: 'button', class: 'button secondary small inbox-more', hidden: true }, 'Show older announcements');
  const body = h('div', { class: 'inbox-body', id: bodyId, hidden: !wide }, status, list, more);
  const dialog = announcementDialog(ctx, (e) => read(e), (id) => {
    // Back to the entry it was opened from (painted again meanwhile when it was marked read).
    const button = [...list.querySelectorAll<HTMLElement>('li[data-announcement]')].find((li) => li.dataset.announcement === id)?.querySelector('button');
    button?.focus();
  });
  const el = h(
    'section',
    { class: 'inbox-panel', 'aria-labelledby': headingId, dataset: { open: String(wide) } },
    h('h2', { class: 'inbox-title', id: headingId }, toggle),
    arrivals,
    body,
    dialog.el,
  );
  const expand = (open: boolean) => {
    toggle.setAttribute('aria-expanded', String(open));
    body.hidden = !open;
    el.dataset.open = String(open);
  };
  toggle.addEventListener('click', () => expand(toggle.getAttribute('aria-expanded') !== 'true'));

  function paintBadge(): void {
    badge.dataset.unread = String(count.unread);
    badge.dataset.more = String(count.more);
    badge.hidden = count.unread === 0 && !count.more;
    badgeNumber.textContent = badgeText(count.unread, count.more);
    badgeWords.textContent = unreadAnnouncementsLabel(count.unread, count.more);
  }

  function item(e: InboxEntry): HTMLLIElement {
    const unread = !e.read_at;
    const open = h(
      'button',
      { type: 'button', class: 'inbox-entry' },
      h('span', { class: 'inbox-entry-title' }, unread ? h('span', { class: 'unread-dot', 'aria-hidden': 'true' }) : null, unread ? srOnly('Unread: ') : null, e.title),
      h('span', { class: 'inbox-entry-preview' }, e.preview),
      h('span', { class: 'inbox-entry-meta' }, [formatDateTime(e.published_at), mediaLine(e.media)].filter(Boolean).join(' · ')),
    );
    open.addEventListener('click', () => void dialog.open(e));
    return h('li', { dataset: { announcement: e.announcement_id, read: String(!unread) }, class: unread ? 'unread' : '' }, open);
  }

  function paint(): void {
    replaceChildren(list, entries.map(item));
    if (loaded) status.textContent = entries.length === 0 ? `No announcements yet. News from ${ctx.identity?.tenant ?? 'the business'} appears here.` : '';
    more.hidden = !cursor;
    paintBadge();
  }

  async function load(older: boolean): Promise<void> {
    if (loading) return;
    loading = true;
    arrivedDuringLoad.clear();
    more.disabled = true;
    try {
      const page = await ctx.api.inbox({ limit: PAGE, cursor: older ? cursor ?? undefined : undefined });
      if (scope.disposed) return;
      entries = mergeEntries(entries, page.items);
      if (older || !loaded) cursor = page.next_cursor ?? null;
      let fresh: UnreadCount = { unread: page.unread, more: page.unread_more };
      for (const id of arrivedDuringLoad) if (!page.items.some((x) => x.announcement_id === id)) fresh = oneMoreUnread(fresh);
      count = fresh;
      loaded = true;
      paint();
    } catch (e) {
      status.textContent = `Your announcements could not be loaded: ${describeError(e)}`;
    } finally {
      loading = false;
      more.disabled = false;
    }
  }
  more.addEventListener('click', () => void load(true));

  /** Opened: marked read once, the badge one less. */
  async function read(e: InboxEntry): Promise<void> {
    if (e.read_at) return;
    try {
      const done = await ctx.api.readInboxEntry(e.announcement_id);
      const before = entries.find((x) => x.announcement_id === e.announcement_id);
      if (before && !before.read_at) {
        entries = mergeEntries(entries, [{ ...before, read_at: done.read_at ?? new Date().toISOString() }]);
        count = oneLessUnread(count);
        paint();
      }
    } catch (err) {
      ctx.fail(err);
    }
  }

  let wasOpen = true;
  const off = ctx.live?.on((ev) => {
    if (ev.type === 'announcement') {
      const known = entries.some((x) => x.announcement_id === ev.entry.announcement_id);
      entries = mergeEntries(entries, [ev.entry]);
      if (!known && !ev.entry.read_at) {
        count = oneMoreUnread(count);
        if (loading) arrivedDuringLoad.add(ev.entry.announcement_id);
        arrivals.textContent = `New announcement: ${ev.entry.title}`;
      }
      paint();
    } else if (ev.type === 'state') {
      // Back after the connection was lost: what arrived meanwhile.
      if (ev.state.kind === 'open' && !wasOpen) void load(false);
      wasOpen = ev.state.kind === 'open';
    }
  });
  if (off) scope.add(off);
  scope.add(() => dialog.close());
  /** Opens the entry asked for: from the list when it is there, else as the API answers it. */
  async function openAsked(id: string): Promise<void> {
    let entry: InboxEntry | undefined = entries.find((x) => x.announcement_id === id);
    if (!entry) {
      try {
        entry = await ctx.api.inboxEntry(id);
      } catch (e) {
        ctx.notify(`This announcement could not be opened: ${describeError(e)}`);
        return;
      }
    }
    if (scope.disposed) return;
    expand(true);
    list.querySelector<HTMLElement>(`li[data-announcement="${CSS.escape(id)}"]`)?.scrollIntoView({ block: 'nearest' });
    void dialog.open(entry);
  }

  paintBadge();
  void load(false).then(() => {
    if (options.open) void openAsked(options.open);
  });
  return el;
}

/** The dialog an announcement opens in: the whole text and its player. */
function announcementDialog(ctx: Ctx, onOpened: (e: InboxEntry) => void, onClosed: (announcementId: string) => void) {
  const titleId = uid('ann-title');
  const title = h('h2', { id: titleId, class: 'announcement-title' });
  const meta = h('p', { class: 'muted small' });
  const media = h('div', { class: 'announcement-media' });
  const text = h('div', { class: 'announcement-text' });
  const state = h('p', { class: 'muted small', role: 'status' });
  const closeButton = h('button', { type: 'button', class: 'button secondary' }, 'Close');
  const el = h(
    'dialog',
    { class: 'announcement-dialog', 'aria-labelledby': titleId },
    h('article', null, title, meta, media, text, state, h('div', { class: 'actions' }, closeButton)),
  );
  let shown: string | null = null;
  let generation = 0;
  closeButton.addEventListener('click', () => el.close());
  el.addEventListener('close', () => {
    generation++;
    for (const m of media.querySelectorAll('video, audio')) (m as HTMLMediaElement).pause();
    media.replaceChildren();
    if (shown) onClosed(shown);
    shown = null;
  });

  function player(a: OpenedAnnouncement, refresh: () => Promise<string | null>): HTMLElement | null {
    const url = safeUrl(a.media_url);
    if (!a.media || !url) return null;
    const label = `${a.media.kind === 'video' ? 'Video' : 'Audio'}: ${a.title}`;
    const m =
      a.media.kind === 'video'
        ? h('video', { controls: true, preload: 'metadata', playsInline: true, src: url, 'aria-label': label, class: 'announcement-player' })
        : h('audio', { controls: true, preload: 'metadata', src: url, 'aria-label': label, class: 'announcement-player' });
    if (a.media.kind === 'video' && a.media.width && a.media.height) {
      m.setAttribute('width', String(a.media.width));
      m.setAttribute('height', String(a.media.height));
    }
    // The link lasts an hour: one that expired while the dialog stayed open is signed again, once.
    let refreshed = false;
    m.addEventListener('error', async () => {
      if (refreshed) return;
      refreshed = true;
      const fresh = await refresh();
      if (fresh) m.src = fresh;
    });
    return m;
  }

  async function open(e: InboxEntry): Promise<void> {
    const mine = ++generation;
    shown = e.announcement_id;
    title.textContent = e.title;
    meta.textContent = formatDateTime(e.published_at);
    text.textContent = e.preview;
    media.replaceChildren();
    state.textContent = 'Loading…';
    if (!el.open) el.showModal();
    try {
      const a = await ctx.api.inboxEntry(e.announcement_id);
      if (mine !== generation) return;
      text.textContent = a.body;
      state.textContent = '';
      const p = player(a, async () => safeUrl((await ctx.api.inboxEntry(e.announcement_id).catch(() => null))?.media_url) || null);
      if (p) media.appendChild(p);
      else if (a.media) state.textContent = `The ${a.media.kind} cannot be played right now.`;
      onOpened(e);
    } catch (err) {
      if (mine !== generation) return;
      state.textContent = `This announcement could not be opened: ${describeError(err)}`;
    }
  }

  return { el, open, close: () => el.open && el.close() };
}
