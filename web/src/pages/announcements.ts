// Announcements: the tenant's announcements with their counts, read again while one is on its
// way; and a composer: a title, a body, a video or audio file, an audience of customers and
// groups with its size before sending, now or at a set time.

import { ApiError, describeError } from '../api';
import { hashQuery, route, type Ctx } from '../app';
import { field, h, replaceChildren, Scope, srOnly, uid } from '../dom';
import { formatBytes, formatDateTime, formatDuration, newClientId } from '../format';
import { safeUrl } from '../chat/message';
import { icon } from '../icons';
import {
  audienceSentence,
  explainRefusal,
  inFlight,
  mediaContentType,
  nextPollMs,
  sendAtFromLocal,
  STATUS_TEXT,
  toLocalInput,
} from '../announcements/model';
import { customerIdsIn } from './groups';
import type { Announcement, AnnouncementMedia, Customer, Group, SignedUpload } from '../types';

const MEDIA_ACCEPT = 'video/mp4,video/quicktime,video/webm,audio/*,.mp4,.m4v,.mov,.webm,.m4a,.aac,.mp3,.ogg,.opus,.wav';
/** How long a file's check is waited for before the agent is told to try again. */
const MEDIA_CHECK_MS = 120_000;

/** PUTs a file to its signed URL, telling how far it got. */
function putWithProgress(upload: SignedUpload, file: Blob, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method || 'PUT', upload.url);
    for (const [k, v] of Object.entries(upload.headers ?? {})) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => e.lengthComputable && onProgress(e.loaded / e.total));
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let message = `the server answered ${xhr.status}`;
      try {
        message = (JSON.parse(xhr.responseText) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // not JSON: the status says enough
      }
      reject(new Error(message));
    });
    xhr.addEventListener('error', () => reject(new Error('Confer could not be reached. Check your connection and try again.')));
    xhr.send(file);
  });
}

function mediaDescription(m: { kind: string; width?: number | null; height?: number | null; duration_ms?: number | null; size: number }): string {
  const parts = [m.kind === 'video' ? 'Video' : 'Audio'];
  if (m.width && m.height) parts.push(`${m.width} × ${m.height}`);
  if (m.duration_ms) parts.push(formatDuration(m.duration_ms));
  parts.push(formatBytes(m.size));
  return parts.join(', ');
}

type MediaState =
  | { kind: 'none' }
  | { kind: 'uploading'; file: File; fraction: number }
  | { kind: 'checking'; file: File; id: string }
  | { kind: 'ready'; media: AnnouncementMedia }
  | { kind: 'failed'; file: File; reason: string };

route('/announcements', 'staff', (ctx: Ctx) => {
  const scope = new Scope();
  const groupNames = new Map<string, string>();

  // ---- the list ----
  const listStatus = h('p', { role: 'status', class: 'muted' }, 'Loading…');
  const list = h('ul', { class: 'plain-list announcement-list', 'aria-labelledby': 'sent-h' });
  const more = h('button', { type: 'button', class: 'button secondary small', hidden: true }, 'Show older announcements');
  const refresh = h('button', { type: 'button', class: 'button secondary small' }, 'Refresh');
  let items: Announcement[] = [];
  let cursor: string | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let loading = false;
  scope.add(() => timer && clearTimeout(timer));
  // The announcement a search opened: marked in the list, scrolled to once.
  const asked = hashQuery().get('show');
  let revealed = false;

  function whenText(a: Announcement): string {
    switch (a.status) {
      case 'scheduled':
        return Date.parse(a.send_at) > Date.now() + 2000 ? `Scheduled for ${formatDateTime(a.send_at)}` : 'Sending now';
      case 'expanding':
      case 'sending':
        return `Sending since ${formatDateTime(a.published_at ?? a.send_at)}`;
      case 'sent':
        return `Sent ${formatDateTime(a.sent_at ?? a.published_at ?? a.send_at)}`;
      case 'cancelled':
        return `Cancelled ${formatDateTime(a.cancelled_at)}; it was to be sent ${formatDateTime(a.send_at)}`;
    }
  }

  function audienceText(a: Announcement): string {
    const parts: string[] = [];
    const groups = a.audience.group_ids.map((g) => groupNames.get(g) ?? 'a deleted group');
    if (groups.length) parts.push(groups.length <= 3 ? groups.join(', ') : `${groups.length} groups`);
    const n = a.audience.customer_ids.length;
    if (n) parts.push(n === 1 ? '1 customer' : `${n} customers`);
    return `To ${parts.join(' and ')}`;
  }

  function counts(a: Announcement): HTMLElement {
    const stat = (key: string, label: string, value: number) =>
      h('div', { class: 'count' }, h('dt', null, label), h('dd', { dataset: { count: key } }, String(value)));
    return h(
      'dl',
      { class: 'counts', 'aria-label': `Counts of ${a.title}` },
      stat('targeted', 'Targeted', a.targeted),
      stat('delivered', 'Delivered', a.delivered),
      stat('delivered_live', 'Delivered live', a.delivered_live),
      stat('read', 'Read', a.read),
    );
  }

  function row(a: Announcement): HTMLLIElement {
    const cancellable = a.status === 'scheduled' && Date.parse(a.send_at) > Date.now() + 2000;
    const cancel = cancellable ? h('button', { type: 'button', class: 'button danger small' }, h('span', { 'aria-hidden': 'true' }, 'Cancel'), srOnly(`Cancel ${a.title}`)) : null;
    cancel?.addEventListener('click', async () => {
      if (!confirm(`Cancel “${a.title}”? It will not be sent.`)) return;
      cancel.disabled = true;
      try {
        const done = await ctx.api.cancelAnnouncement(a.id);
        ctx.notify(`“${done.title}” was cancelled.`, 'info');
        upsert(done);
      } catch (e) {
        cancel.disabled = false;
        ctx.notify(e instanceof ApiError ? explainRefusal(e.code, e.message, `“${a.title}” could not be cancelled`) : describeError(e));
        void load();
      }
    });
    const excerpt = a.body.length > 240 ? `${a.body.slice(0, 240)}…` : a.body;
    return h(
      'li',
      { class: `announcement-item${a.id === asked ? ' found' : ''}`, dataset: { announcement: a.id, status: a.status }, tabIndex: a.id === asked ? -1 : undefined },
      h(
        'div',
        { class: 'announcement-head' },
        h('h3', null, a.title),
        h('span', { class: `status ann-status ann-status-${a.status}` }, STATUS_TEXT[a.status]),
      ),
      h('p', { class: 'muted small' }, [whenText(a), audienceText(a), a.media ? `${a.media.kind === 'video' ? 'Video' : 'Audio'}: ${a.media.file_name}` : null].filter(Boolean).join(' · ')),
      h('p', { class: 'announcement-excerpt' }, excerpt),
      a.status === 'cancelled' || (a.status === 'scheduled' && !inFlight(a)) ? null : counts(a),
      cancel ? h('div', { class: 'actions' }, cancel) : null,
    );
  }

  function paint(): void {
    // The one found keeps focus while the list is painted again (its counts rising).
    const focused = document.activeElement instanceof HTMLElement && list.contains(document.activeElement) && document.activeElement.matches('li.found') ? document.activeElement.dataset.announcement : undefined;
    replaceChildren(list, items.map(row));
    if (focused) [...list.querySelectorAll<HTMLElement>('li.found')].find((li) => li.dataset.announcement === focused)?.focus({ preventScroll: true });
    listStatus.textContent = items.length === 0 ? 'No announcements yet. Write the first one here.' : '';
    more.hidden = !cursor;
  }

  /** Shows the announcement asked for: read on its own when it is not among the first shown. */
  async function reveal(id: string): Promise<void> {
    revealed = true;
    if (!items.some((a) => a.id === id)) {
      try {
        const a = await ctx.api.announcement(id);
        if (scope.disposed) return;
        if (!items.some((x) => x.id === a.id)) items = [...items, a];
        paint();
      } catch (e) {
        ctx.notify(`This announcement could not be shown: ${describeError(e)}`);
        return;
      }
    }
    const li = [...list.querySelectorAll<HTMLElement>('li[data-announcement]')].find((x) => x.dataset.announcement === id);
    if (!li) return;
    li.scrollIntoView({ block: 'center' });
    li.focus({ preventScroll: true });
  }

  function upsert(a: Announcement): void {
    const i = items.findIndex((x) => x.id === a.id);
    if (i >= 0) items[i] = a;
    else items = [a, ...items];
    paint();
    schedule();
  }

  /** Reads the list again after a while: often while one is on its way, stopping when none is. */
  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (scope.disposed) return;
    const ms = nextPollMs(items);
    if (ms === null) return;
    timer = setTimeout(() => {
      timer = null;
      if (document.visibilityState === 'hidden') schedule();
      else void load();
    }, ms);
  }

  async function load(): Promise<void> {
    if (loading || scope.disposed) return;
    loading = true;
    try {
      // The first page again (new ones, new counts), keeping as many as are shown.
      const page = await ctx.api.announcements({ limit: Math.min(100, Math.max(20, items.length)) });
      if (scope.disposed) return;
      // One shown on its own (a search's) stays until the pages reach it.
      const kept = asked ? items.find((a) => a.id === asked && !page.items.some((x) => x.id === a.id)) : undefined;
      items = kept && page.next_cursor ? [...page.items, kept] : page.items;
      cursor = page.next_cursor ?? null;
      paint();
    } catch (e) {
      listStatus.textContent = `The announcements could not be loaded: ${describeError(e)}`;
    } finally {
      loading = false;
      schedule();
    }
    if (asked && !revealed && !scope.disposed) void reveal(asked);
  }
  refresh.addEventListener('click', () => void load());
  more.addEventListener('click', async () => {
    if (!cursor) return;
    more.disabled = true;
    try {
      const page = await ctx.api.announcements({ limit: 20, cursor });
      items = [...items, ...page.items.filter((a) => !items.some((x) => x.id === a.id))];
      cursor = page.next_cursor ?? null;
      paint();
    } catch (e) {
      ctx.fail(e);
    } finally {
      more.disabled = false;
    }
  });
  scope.listen(document, 'visibilitychange', () => document.visibilityState === 'visible' && !timer && nextPollMs(items) !== null && void load());

  // ---- the composer ----
  const title = h('input', { name: 'title', required: true, maxLength: 200, autocomplete: 'off' });
  const body = h('textarea', { name: 'body', required: true, maxLength: 10000, rows: 5 });

  // The file: uploaded as soon as it is chosen, then checked by Confer.
  let media: MediaState = { kind: 'none' };
  let mediaGeneration = 0;
  const fileInput = h('input', { type: 'file', name: 'media', accept: MEDIA_ACCEPT });
  const mediaStatus = h('div', { class: 'media-status', role: 'status' });
  const mediaPreview = h('div', { class: 'media-preview' });
  const removeMedia = h('button', { type: 'button', class: 'button secondary small', hidden: true }, 'Remove the file');
  removeMedia.addEventListener('click', () => {
    mediaGeneration++;
    media = { kind: 'none' };
    fileInput.value = '';
    paintMedia();
    fileInput.focus();
  });

  function paintMedia(): void {
    removeMedia.hidden = media.kind === 'none';
    mediaPreview.replaceChildren();
    mediaStatus.dataset.state = media.kind;
    switch (media.kind) {
      case 'none':
        mediaStatus.replaceChildren();
        break;
      case 'uploading': {
        const pct = Math.round(media.fraction * 100);
        replaceChildren(
          mediaStatus,
          h('p', null, `Uploading ${media.file.name}… ${pct} %`),
          h('progress', { max: 100, value: pct, 'aria-label': `Upload of ${media.file.name}` }),
        );
        break;
      }
      case 'checking':
        replaceChildren(mediaStatus, h('p', null, `Checking ${media.file.name}…`));
        break;
      case 'ready': {
        const m = media.media;
        replaceChildren(mediaStatus, h('p', { class: 'media-ready' }, `${m.file_name} is ready: ${mediaDescription(m)}.`));
        const url = safeUrl(m.url);
        if (url) {
          const label = `Preview of ${m.file_name}`;
          mediaPreview.appendChild(
            m.kind === 'video'
              ? h('video', { controls: true, preload: 'metadata', src: url, 'aria-label': label, class: 'media-player', playsInline: true })
              : h('audio', { controls: true, preload: 'metadata', src: url, 'aria-label': label, class: 'media-player' }),
          );
        }
        break;
      }
      case 'failed':
        replaceChildren(mediaStatus, h('p', { class: 'form-error' }, media.reason));
        break;
    }
  }

  async function uploadMedia(file: File): Promise<void> {
    const mine = ++mediaGeneration;
    const current = () => mine === mediaGeneration && !scope.disposed;
    media = { kind: 'uploading', file, fraction: 0 };
    paintMedia();
    try {
      const ticket = await ctx.api.requestAnnouncementMedia({
        client_upload_id: newClientId('a'),
        file_name: file.name,
        content_type: mediaContentType(file),
        size: file.size,
      });
      if (!current()) return;
      if (ticket.upload) {
        let last = 0;
        await putWithProgress(ticket.upload, file, (fraction) => {
          if (!current() || media.kind !== 'uploading' || fraction - last < 0.02) return;
          last = fraction;
          media = { ...media, fraction };
          paintMedia();
        });
      }
      if (!current()) return;
      media = { kind: 'checking', file, id: ticket.media.id };
      paintMedia();
      // Confer checks the bytes as they land: ask until it has said ready or refused.
      const deadline = Date.now() + MEDIA_CHECK_MS;
      let wait = 300;
      for (;;) {
        const m = await ctx.api.announcementMedia(ticket.media.id);
        if (!current()) return;
        if (m.status === 'ready') {
          media = { kind: 'ready', media: m };
          break;
        }
        if (m.status === 'rejected') {
          media = { kind: 'failed', file, reason: `${file.name} was refused: ${m.rejection?.message ?? m.rejection?.code ?? 'it is not a video or audio file Confer can send'}` };
          break;
        }
        if (Date.now() > deadline) {
          media = { kind: 'failed', file, reason: `${file.name} is still being checked. Remove it and try again.` };
          break;
        }
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(2000, wait * 1.5);
      }
    } catch (e) {
      if (!current()) return;
      media = { kind: 'failed', file, reason: `${file.name} could not be uploaded: ${describeError(e)}` };
    }
    paintMedia();
  }
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file) void uploadMedia(file);
  });

  // The audience: customers found or pasted, and groups.
  const chosen = new Map<string, string>();
  const chosenList = h('ul', { class: 'chosen-list', 'aria-label': 'Customers chosen' });
  const search = h('input', { type: 'search', name: 'q', autocomplete: 'off', placeholder: 'Name or email' });
  const found = h('ul', { class: 'plain-list found-list', 'aria-label': 'Customers found' });
  const pasted = h('textarea', { name: 'customer_ids', rows: 2, spellcheck: false });
  const pastedCount = h('p', { class: 'hint', role: 'status' });
  const groupBoxes = h('div', { class: 'group-choices' });
  const groupsStatus = h('p', { class: 'muted small', role: 'status' }, 'Loading groups…');
  const reach = h('p', { class: 'audience-reach', role: 'status', dataset: { recipients: '' } }, 'Choose customers, groups or both.');

  function paintChosen(): void {
    replaceChildren(
      chosenList,
      [...chosen].map(([id, name]) => {
        const remove = h('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove ${name}` }, icon('close', 14));
        remove.addEventListener('click', () => {
          chosen.delete(id);
          for (const b of found.querySelectorAll<HTMLButtonElement>('button[data-customer]')) if (b.dataset.customer === id) b.disabled = false;
          paintChosen();
          audienceChanged();
          search.focus();
        });
        return h('li', { class: 'chip', dataset: { customer: id } }, h('span', null, name), remove);
      }),
    );
    chosenList.hidden = chosen.size === 0;
  }

  function audience(): { customer_ids: string[]; group_ids: string[] } {
    const customers = new Set([...chosen.keys(), ...customerIdsIn(pasted.value)]);
    const groups = [...groupBoxes.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')].map((c) => c.value);
    return { customer_ids: [...customers], group_ids: groups };
  }

  let previewTimer: ReturnType<typeof setTimeout> | null = null;
  let previewGeneration = 0;
  scope.add(() => previewTimer && clearTimeout(previewTimer));
  function audienceChanged(): void {
    if (previewTimer) clearTimeout(previewTimer);
    const mine = ++previewGeneration;
    const a = audience();
    if (a.customer_ids.length === 0 && a.group_ids.length === 0) {
      reach.dataset.recipients = '';
      reach.classList.remove('error-text');
      reach.textContent = 'Choose customers, groups or both.';
      return;
    }
    reach.dataset.recipients = '';
    reach.textContent = 'Counting the recipients…';
    previewTimer = setTimeout(async () => {
      try {
        const p = await ctx.api.previewAudience(a);
        if (mine !== previewGeneration) return;
        reach.classList.remove('error-text');
        reach.dataset.recipients = String(p.recipients);
        reach.textContent = audienceSentence(p);
      } catch (e) {
        if (mine !== previewGeneration) return;
        reach.classList.add('error-text');
        // Nothing is stored by a count: the refusal's "nothing was stored" says nothing here.
        reach.textContent =
          e instanceof ApiError ? explainRefusal(e.code, e.message.replace(/;\s*nothing was stored\.?$/, ''), 'This audience cannot be counted') : describeError(e);
      }
    }, 300);
  }

  let searchTimer: ReturnType<typeof setTimeout> | null = null;
  scope.add(() => searchTimer && clearTimeout(searchTimer));
  search.addEventListener('input', () => {
    if (searchTimer) clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      const q = search.value.trim();
      if (!q) return found.replaceChildren();
      try {
        const page = await ctx.api.customers({ q, limit: 10 });
        if (q !== search.value.trim()) return;
        replaceChildren(
          found,
          page.items.map((c: Customer) => {
            const add = h('button', { type: 'button', class: 'button small secondary', disabled: chosen.has(c.id), dataset: { customer: c.id } }, `Add ${c.name}`);
            add.addEventListener('click', () => {
              chosen.set(c.id, c.name);
              add.disabled = true;
              paintChosen();
              audienceChanged();
            });
            return h('li', null, h('span', null, c.name, c.email ? h('span', { class: 'muted small' }, ` · ${c.email}`) : null), ' ', add);
          }),
        );
        if (page.items.length === 0) found.appendChild(h('li', { class: 'muted' }, `No customer’s name or email contains “${q}”.`));
      } catch (e) {
        ctx.fail(e);
      }
    }, 250);
  });
  let pasteTimer: ReturnType<typeof setTimeout> | null = null;
  scope.add(() => pasteTimer && clearTimeout(pasteTimer));
  pasted.addEventListener('input', () => {
    if (pasteTimer) clearTimeout(pasteTimer);
    pasteTimer = setTimeout(() => {
      const n = customerIdsIn(pasted.value).length;
      pastedCount.textContent = pasted.value.trim() === '' ? '' : n === 0 ? 'No customer ids (cus_…) in the text.' : `${n} ${n === 1 ? 'id' : 'ids'} in the text.`;
      audienceChanged();
    }, 250);
  });

  async function loadGroups(): Promise<void> {
    const all: Group[] = [];
    try {
      let next: string | undefined;
      do {
        const page = await ctx.api.groups({ limit: 100, cursor: next });
        all.push(...page.items);
        next = page.next_cursor ?? undefined;
      } while (next && all.length < 1000);
    } catch (e) {
      groupsStatus.textContent = `The groups could not be loaded: ${describeError(e)}`;
      return;
    }
    for (const g of all) groupNames.set(g.id, g.name);
    replaceChildren(
      groupBoxes,
      all.map((g) => {
        const box = h('input', { type: 'checkbox', name: 'group_ids', value: g.id, id: uid('group') });
        box.addEventListener('change', audienceChanged);
        return h('div', { class: 'check' }, box, h('label', { for: box.id }, g.name));
      }),
    );
    if (all.length === 0) replaceChildren(groupsStatus, 'No groups yet. ', h('a', { href: '#/groups' }, 'Create a group'), ' to reach many customers at once.');
    else groupsStatus.textContent = '';
    paint();
  }

  // When: now, or at a time of the agent's clock.
  const now = h('input', { type: 'radio', name: 'when', value: 'now', defaultChecked: true, checked: true, id: uid('when') });
  const later = h('input', { type: 'radio', name: 'when', value: 'later', id: uid('when') });
  const at = h('input', { type: 'datetime-local', name: 'send_at', disabled: true });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const send = h('button', { type: 'submit', class: 'button primary' }, 'Send now');
  const paintWhen = () => {
    at.disabled = !later.checked;
    send.textContent = later.checked ? 'Schedule' : 'Send now';
    if (later.checked && !at.value) at.value = toLocalInput(new Date(Date.now() + 60 * 60_000));
    at.min = toLocalInput(new Date());
  };
  now.addEventListener('change', paintWhen);
  later.addEventListener('change', () => {
    paintWhen();
    if (later.checked) at.focus();
  });

  const error = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'card form compose',
      'aria-labelledby': 'compose-h',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        const a = audience();
        if (a.customer_ids.length === 0 && a.group_ids.length === 0) {
          error.textContent = 'Choose who gets it: customers, groups or both.';
          search.focus();
          return;
        }
        if (media.kind === 'uploading' || media.kind === 'checking') {
          error.textContent = `Wait until ${media.file.name} is checked, or remove it.`;
          return;
        }
        if (media.kind === 'failed') {
          error.textContent = 'Remove the file that could not be used, or choose another.';
          return;
        }
        let sendAt: string | undefined;
        if (later.checked) {
          const when = sendAtFromLocal(at.value);
          if ('error' in when) {
            error.textContent = when.error;
            at.focus();
            return;
          }
          sendAt = when.sendAt;
        }
        send.disabled = true;
        try {
          const made = await ctx.api.createAnnouncement({
            title: title.value.trim(),
            body: body.value,
            ...(media.kind === 'ready' ? { media_id: media.media.id } : {}),
            audience: a,
            ...(sendAt ? { send_at: sendAt } : {}),
          });
          ctx.notify(sendAt ? `“${made.title}” is scheduled for ${formatDateTime(made.send_at)}.` : `“${made.title}” is on its way.`, 'info');
          clearForm();
          upsert(made);
          // Back to the top: an empty form to start the next one, the list with this one in it.
          (page.closest('.content') ?? document.scrollingElement)?.scrollTo({ top: 0 });
          title.focus({ preventScroll: true });
        } catch (err) {
          error.textContent = err instanceof ApiError ? explainRefusal(err.code, err.message) : describeError(err);
        } finally {
          send.disabled = false;
        }
      },
    },
    h('h2', { id: 'compose-h' }, 'New announcement'),
    field('Title', title),
    field('Message', body, 'Up to 10,000 characters. Line breaks are kept.'),
    field('Video or audio (optional)', fileInput, 'MP4 or WebM video, or a sound file. It is checked before it can be sent.'),
    mediaStatus,
    mediaPreview,
    h('div', { class: 'actions media-actions' }, removeMedia),
    h(
      'fieldset',
      { class: 'audience' },
      h('legend', null, 'Who gets it'),
      h('h3', { class: 'sub-h' }, 'Groups'),
      groupsStatus,
      groupBoxes,
      h('h3', { class: 'sub-h' }, 'Customers'),
      field('Find customers', search),
      found,
      chosenList,
      field('Customer ids', pasted, 'Or paste ids (cus_…), separated any way you like.'),
      pastedCount,
      reach,
    ),
    h(
      'fieldset',
      { class: 'when' },
      h('legend', null, 'When'),
      h('div', { class: 'check' }, now, h('label', { for: now.id }, 'Now')),
      h('div', { class: 'check' }, later, h('label', { for: later.id }, 'At a time')),
      field('Send at', at, `Your time (${zone}).`),
    ),
    error,
    h('div', { class: 'actions' }, send),
  );

  function clearForm(): void {
    form.reset();
    mediaGeneration++;
    media = { kind: 'none' };
    paintMedia();
    chosen.clear();
    paintChosen();
    found.replaceChildren();
    pastedCount.textContent = '';
    at.value = '';
    paintWhen();
    audienceChanged();
  }

  const page = h(
    'section',
    { class: 'page announcements-page' },
    h('h1', null, 'Announcements'),
    h('p', { class: 'lead' }, 'News for many customers at once: it lands in their inbox beside their chat, live for those online.'),
    h(
      'div',
      { class: 'announcements-layout' },
      form,
      h(
        'section',
        { class: 'card announcements-sent', 'aria-labelledby': 'sent-h' },
        h('div', { class: 'card-head' }, h('h2', { id: 'sent-h' }, 'Sent and scheduled'), refresh),
        listStatus,
        list,
        more,
      ),
    ),
  );

  paintChosen();
  paintWhen();
  void loadGroups();
  void load();

  return { title: 'Announcements', el: page, dispose: () => scope.dispose() };
});
