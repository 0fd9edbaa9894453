// The live conversation of one session, for agents and customers alike: history that grows
// upwards as you scroll, new messages as they arrive, receipts, typing, presence, and a composer
// that sends text, files (picker, drag and drop, paste) and voice messages.

import { describeError } from '../api';
import type { Ctx, View } from '../app';
import { h, replaceChildren, Scope, srOnly } from '../dom';
import { contentTypeOf, formatDateTime, formatDuration, recordingFileName } from '../format';
import { icon } from '../icons';
import { key, type Live } from '../live';
import type { Message, ParticipantRef, Session } from '../types';
import { messageItem, paintTicks, safeUrl, urlsExpired, type MessageContext } from './message';
import { readerLanguage } from './translate';
import { canRecord, VoiceRecorder } from './recorder';
import { callUi } from '../call/callPanel';

export type ChatMode = 'agent' | 'customer';

export interface ChatViewOptions {
  mode: ChatMode;
  /** Extra content above the conversation (the customer's list of conversations). */
  aside?: HTMLElement;
  /** A message to show and mark (a search hit): older history is read until it is there. */
  focusSeq?: number | null;
}

export function chatView(ctx: Ctx, sessionId: string, options: ChatViewOptions): View {
  const live = ctx.live as Live;
  const scope = new Scope();
  const sync = live.sync(sessionId);
  let session: Session | null = null;
  let customerName = '';
  let firstPaint = true;

  // ---- the page ----
  const heading = h('h1', { class: 'chat-title' }, options.mode === 'agent' ? 'Conversation' : `Your conversation with ${ctx.identity?.tenant ?? 'us'}`);
  const meta = h('p', { class: 'chat-meta' });
  const presence = h('p', { class: 'presence', dataset: { online: 'unknown' } });
  const headActions = h('div', { class: 'chat-actions' });
  const loadError = h('p', { class: 'form-error', role: 'alert' });
  const headText = h('div', { class: 'chat-head-text' }, heading, meta, presence);
  const head = h('header', { class: 'chat-head' }, headText, headActions);

  const olderButton = h('button', { type: 'button', class: 'button secondary small', onclick: () => void loadOlder() }, 'Load older messages');
  const historyStart = h('div', { class: 'history-start' });
  const list = h('ol', { class: 'messages', 'aria-label': 'Messages' });
  // New messages are announced; older ones loaded above are not (aria-busy while they go in).
  const log = h('div', { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': 'Messages' }, list);
  const pending = h('ol', { class: 'messages pending', 'aria-label': 'Messages being sent' });
  const scroller = h('div', { class: 'scroller', tabindex: '0', role: 'region', 'aria-label': 'Conversation' }, historyStart, log, pending);
  const typing = h('p', { class: 'typing', role: 'status', 'aria-live': 'polite' });
  const dropHint = h('div', { class: 'drop-hint', hidden: true, 'aria-hidden': 'true' }, 'Drop files to send them');
  const lightbox = imageDialog();
  const composerSlot = h('div', { class: 'composer-slot' });
  // The video call: its start button in the header, its prompts above, the call beside the messages.
  const call = callUi(live, sessionId, {
    nameOf: (p) => nameOf(p),
    canStart: () => !!session && session.status === 'open' && sync.isParticipant,
    videoApps: options.mode === 'agent' ? () => ctx.api.videoSettings() : undefined,
  });
  scope.add(() => call.dispose());
  headText.appendChild(call.recording);
  const section = h(
    'section',
    { class: `chat chat-${options.mode}`, 'aria-labelledby': 'chat-title' },
    head,
    loadError,
    call.banner,
    h(
      'div',
      { class: 'chat-columns' },
      call.panel,
      h('div', { class: 'chat-column' }, h('div', { class: 'chat-body' }, scroller, dropHint), typing, composerSlot),
    ),
    lightbox.el,
  );
  heading.id = 'chat-title';
  const el = options.aside ? h('div', { class: 'chat-page fills' }, options.aside, section) : section;
  if (!options.aside) section.classList.add('fills');

  // ---- names ----
  const nameOf = (p: ParticipantRef): string => {
    if (live.isMe(p)) return 'You';
    if (p.kind === 'customer') return customerName || (options.mode === 'customer' ? 'You' : 'Customer');
    return options.mode === 'customer' ? `${p.id} (${ctx.identity?.tenant ?? 'support'})` : p.id;
  };
  const messageCtx: MessageContext = {
    isMine: (m) => live.isMe(m.sender),
    senderName: (m) => nameOf(m.sender),
    fresh: async (m) => {
      const page = await ctx.api.messages(sessionId, { after_seq: m.seq - 1, limit: 1 });
      return page.items.find((x) => x.seq === m.seq) ?? m;
    },
    openImage: (m, trigger) => void lightbox.open(m, trigger, messageCtx),
    nameOf: (p) => nameOf(p),
    isMe: (p) => live.isMe(p),
    recordingHref: (id) => (options.mode === 'agent' ? `#/recordings/${encodeURIComponent(id)}` : null),
    language: readerLanguage(),
    translate: async (m, language) => (await ctx.api.translateMessage(sessionId, m.seq, language.code)).text,
  };

  // ---- messages ----
  const rendered = new Map<number, HTMLLIElement>();
  const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 96;
  // Whether the view follows the newest message: until the person scrolls up, and again once they are back down.
  let pinned = true;
  const toBottom = () => {
    pinned = true;
    scroller.scrollTop = scroller.scrollHeight;
  };
  // Sizes change after a render (the page is attached, images and players lay out, the composer grows).
  const resized = new ResizeObserver(() => {
    if (pinned) scroller.scrollTop = scroller.scrollHeight;
  });
  resized.observe(scroller);
  resized.observe(list);
  scope.add(() => resized.disconnect());

  function renderMessages(): void {
    const messages = sync.timeline.messages();
    const before = { height: scroller.scrollHeight, top: scroller.scrollTop };
    const firstSeq = Number((list.firstElementChild as HTMLElement | null)?.dataset.seq ?? Infinity);
    let prepended = false;
    let appendedMine = false;
    let appended = false;
    for (const m of messages) {
      if (rendered.has(m.seq)) continue;
      const li = messageItem(m, messageCtx);
      rendered.set(m.seq, li);
      const last = list.lastElementChild as HTMLElement | null;
      if (!last || Number(last.dataset.seq) < m.seq) {
        list.appendChild(li);
        appended = true;
        if (live.isMe(m.sender)) appendedMine = true;
      } else {
        const next = [...list.children].find((c) => Number((c as HTMLElement).dataset.seq) > m.seq) ?? null;
        list.insertBefore(li, next);
        if (m.seq < firstSeq) prepended = true;
      }
    }
    if (prepended && !pinned) {
      scroller.scrollTop = before.top + (scroller.scrollHeight - before.height);
    } else if (appended && (firstPaint || pinned || appendedMine)) {
      toBottom();
    }
    if (prepended || appended) groupBySender();
    if (messages.length > 0 || sync.timeline.anchored) firstPaint = false;
    paintHistoryStart();
    paintTicksAll();
    paintPending();
    markRead();
    fillUp();
  }

  /** A message right after one of the same sender within five minutes shows no name of its own. */
  function groupBySender(): void {
    let prev: Message | undefined;
    for (const li of list.children as HTMLCollectionOf<HTMLElement>) {
      const m = sync.timeline.get(Number(li.dataset.seq));
      const continued =
        !!m && !!prev && m.kind !== 'call' && prev.kind !== 'call' && key(prev.sender) === key(m.sender) && Date.parse(m.created_at) - Date.parse(prev.created_at) < 5 * 60_000;
      li.classList.toggle('continued', continued);
      prev = m;
    }
  }

  function paintHistoryStart(): void {
    if (sync.error && !sync.timeline.anchored) {
      replaceChildren(historyStart, h('p', { class: 'form-error' }, `The conversation could not be loaded: ${sync.error}`));
      return;
    }
    if (!sync.timeline.anchored) {
      replaceChildren(historyStart, h('p', { class: 'muted' }, 'Loading the conversation…'));
    } else if (sync.timeline.hasOlder()) {
      olderButton.disabled = sync.loading;
      olderButton.textContent = sync.loading ? 'Loading older messages…' : 'Load older messages';
      replaceChildren(historyStart, olderButton);
    } else if (rendered.size === 0) {
      replaceChildren(historyStart, h('p', { class: 'muted' }, 'No messages yet. Say hello!'));
    } else {
      replaceChildren(historyStart, h('p', { class: 'muted' }, 'This is the beginning of the conversation.'));
    }
  }

  async function loadOlder(): Promise<void> {
    if (!sync.timeline.hasOlder() || sync.loading) return;
    log.setAttribute('aria-busy', 'true');
    try {
      await sync.loadOlder();
    } catch (e) {
      ctx.fail(e);
    } finally {
      log.removeAttribute('aria-busy');
      paintHistoryStart();
    }
  }

  /** Until the conversation fills its box, older messages are read (else there is nothing to scroll). */
  function fillUp(): void {
    if (!sync.timeline.anchored || sync.loading || !sync.timeline.hasOlder()) return;
    if (scroller.scrollHeight <= scroller.clientHeight + 8) void loadOlder();
  }

  // Scrolling up near the top reads the page before (scrolling down, or being moved to the bottom, does not).
  let lastTop = 0;
  scope.listen(scroller, 'scroll', () => {
    const top = scroller.scrollTop;
    pinned = nearBottom();
    if (top < lastTop && top < 160) void loadOlder();
    lastTop = top;
  });

  /** Reads older pages until message `seq` is held, then scrolls to it, marks it and gives it focus. */
  async function reveal(seq: number): Promise<void> {
    const t = sync.timeline;
    for (let pages = 0; !t.has(seq) && t.hasOlder() && t.firstHeld() > seq && pages < 1000; pages++) {
      const before = t.firstHeld();
      try {
        await sync.loadOlder();
      } catch (e) {
        ctx.fail(e);
        return;
      }
      if (scope.disposed) return;
      if (t.firstHeld() >= before) break;
    }
    if (scope.disposed) return;
    renderMessages();
    const li = rendered.get(seq);
    if (!li) {
      ctx.notify('That message is not in this conversation any more.', 'info');
      return;
    }
    for (const other of list.querySelectorAll('li.found')) other.classList.remove('found');
    li.classList.add('found');
    li.tabIndex = -1;
    pinned = false;
    li.scrollIntoView({ block: 'center' });
    pinned = nearBottom();
    lastTop = scroller.scrollTop;
    li.focus({ preventScroll: true });
  }

  function paintTicksAll(): void {
    for (const [seq, li] of rendered) {
      if (!li.classList.contains('mine')) continue;
      paintTicks(li, live.progress(sessionId, seq));
    }
  }

  function markRead(): void {
    if (document.visibilityState !== 'visible' || !sync.timeline.anchored) return;
    live.markRead(sessionId);
  }
  scope.listen(document, 'visibilitychange', markRead);
  scope.listen(window, 'focus', markRead);

  // ---- what is on its way: texts not yet stored, uploads not yet verified ----
  function paintPending(): void {
    const items: HTMLElement[] = [];
    // What history already holds of mine (a text stored before its ack was lost: the resend's ack
    // will clear it from the outbox; meanwhile it shows once).
    const mine = new Set(sync.timeline.messages().filter((m) => live.isMe(m.sender)).map((m) => m.client_message_id));
    for (const o of live.outbox) {
      if (o.sessionId !== sessionId || mine.has(o.clientMessageId)) continue;
      const failed = o.status === 'failed';
      items.push(
        h(
          'li',
          { class: `msg mine pending-item${failed ? ' failed' : ''}`, dataset: { cmid: o.clientMessageId } },
          h(
            'div',
            { class: 'bubble' },
            h('p', { class: 'sender' }, 'You'),
            h('p', { class: 'text' }, o.text),
            failed
              ? h(
                  'p',
                  { class: 'meta error-text' },
                  `Not sent: ${o.error ?? 'unknown error'} `,
                  h('button', { type: 'button', class: 'link small', onclick: () => live.retry(o.clientMessageId) }, 'Retry'),
                  ' ',
                  h('button', { type: 'button', class: 'link small', onclick: () => live.discard(o.clientMessageId) }, 'Discard'),
                )
              : h('p', { class: 'meta' }, h('span', { class: 'ticks', dataset: { status: 'sending' } }, srOnly('Sending'), h('span', { 'aria-hidden': 'true' }, '🕓')), live.socket.isOpen ? ' Sending…' : ' Waiting for the connection…'),
          ),
        ),
      );
    }
    for (const u of live.uploads) {
      if (u.sessionId !== sessionId) continue;
      // Its message may have come through a catch-up rather than a frame.
      if (mine.has(u.clientUploadId)) {
        live.dismissUpload(u.clientUploadId);
        continue;
      }
      const words =
        u.status === 'uploading' ? `Uploading ${u.fileName}…` : u.status === 'verifying' ? `Checking ${u.fileName}…` : u.error ?? `${u.fileName} failed`;
      items.push(
        h(
          'li',
          { class: `msg mine pending-item upload${u.status === 'failed' ? ' failed' : ''}`, dataset: { upload: u.clientUploadId, status: u.status } },
          h(
            'div',
            { class: 'bubble' },
            h('p', { class: u.status === 'failed' ? 'text error-text' : 'text' }, words),
            u.status === 'failed'
              ? h('button', { type: 'button', class: 'link small', onclick: () => live.dismissUpload(u.clientUploadId) }, 'Dismiss')
              : null,
          ),
        ),
      );
    }
    pending.replaceChildren(...items);
    pending.hidden = items.length === 0;
    if (pinned) toBottom();
  }

  // ---- header: who, presence, status ----
  function paintHead(): void {
    if (!session) return;
    const closed = session.status === 'closed';
    if (options.mode === 'agent') heading.textContent = customerName || 'Conversation';
    const parts: string[] = [];
    if (session.subject) parts.push(session.subject);
    parts.push(closed ? `Closed ${formatDateTime(session.closed_at)}` : `Opened ${formatDateTime(session.created_at)}`);
    meta.textContent = parts.join(' · ');
    // Presence of the other side.
    const others = live.others(sessionId);
    let online: boolean | null = null;
    for (const [k, s] of live.socket.isOpen ? others : []) {
      if (options.mode === 'agent' && !k.startsWith('customer:')) continue;
      if (s.online === true) online = true;
      else if (s.online === false && online === null) online = false;
    }
    const who = options.mode === 'agent' ? customerName || 'The customer' : 'Support';
    presence.dataset.online = online === null ? 'unknown' : String(online);
    replaceChildren(
      presence,
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      online === null ? '' : online ? `${who} is online` : `${who} is offline`,
    );
    headActions.replaceChildren(call.start);
    call.paint();
    if (options.mode === 'agent') {
      if (!closed && sync.isParticipant) {
        headActions.appendChild(
          h('button', { type: 'button', class: 'button danger small', onclick: closeSession }, 'Close session'),
        );
      }
      headActions.appendChild(h('a', { class: 'button secondary small', href: `#/customers/${session.customer_id}` }, 'Customer details'));
    }
    paintComposer();
  }

  async function closeSession(event: Event): Promise<void> {
    const button = event.currentTarget as HTMLButtonElement;
    if (!session) return;
    if (!confirm('Close this session? Nobody can write in it afterwards; its history stays.')) return;
    button.disabled = true;
    try {
      session = { ...session, ...(await ctx.api.closeSession(sessionId)) };
      paintHead();
      ctx.notify('The session is closed.', 'info');
    } catch (e) {
      ctx.fail(e);
      button.disabled = false;
    }
  }

  function paintTyping(): void {
    const who = live.typingIn(sessionId).map(nameOf);
    typing.textContent = who.length === 0 ? '' : `${who.join(' and ')} ${who.length > 1 ? 'are' : 'is'} typing…`;
  }

  // ---- composer ----
  let composer: HTMLElement | null = null;
  function paintComposer(): void {
    if (!session) return;
    if (session.status === 'closed') {
      composer = null;
      replaceChildren(composerSlot, h('p', { class: 'closed-note' }, `This session was closed ${formatDateTime(session.closed_at)}. Its history stays here to read.`));
      return;
    }
    if (options.mode === 'agent' && !sync.isParticipant) {
      composer = null;
      replaceChildren(composerSlot, h('p', { class: 'closed-note' }, 'You are not taking part in this session, so you can read it but not write in it.'));
      return;
    }
    if (!composer) {
      composer = buildComposer();
      replaceChildren(composerSlot, composer);
    }
  }

  function uploadFiles(files: Iterable<File>): void {
    for (const file of files) {
      void live.upload(sessionId, file, file.name || 'file', contentTypeOf(file));
    }
  }

  function buildComposer(): HTMLElement {
    const textarea = h('textarea', {
      id: `composer-${sessionId}`,
      rows: 1,
      placeholder: 'Write a message…',
      autocomplete: 'off',
      maxLength: 4000,
      enterKeyHint: 'send',
    });
    const fileInput = h('input', { type: 'file', multiple: true, hidden: true, class: 'file-input', tabIndex: -1, 'aria-hidden': 'true' });
    const attach = h(
      'button',
      { type: 'button', class: 'icon-button', 'aria-label': 'Attach files', title: 'Attach files', onclick: () => fileInput.click() },
      icon('attach'),
    );
    const record = h(
      'button',
      { type: 'button', class: 'icon-button', 'aria-label': 'Record a voice message', title: 'Record a voice message' },
      icon('mic'),
    );
    const send = h('button', { type: 'submit', class: 'icon-button primary', 'aria-label': 'Send', title: 'Send' }, icon('send'));
    const recordingText = h('span', { class: 'recording-time' });
    const stopSend = h('button', { type: 'button', class: 'button primary small' }, 'Stop and send');
    const cancelRec = h('button', { type: 'button', class: 'button secondary small' }, 'Cancel');
    const recordingBar = h(
      'div',
      { class: 'recording', hidden: true },
      h('span', { class: 'rec-dot', 'aria-hidden': 'true' }),
      h('span', { role: 'status' }, recordingText),
      stopSend,
      cancelRec,
    );
    const error = h('p', { class: 'form-error', role: 'alert' });
    const row = h('div', { class: 'composer-row' }, attach, fileInput, h('label', { for: textarea.id, class: 'sr-only' }, 'Message'), textarea, record, send);
    const form = h('form', { class: 'composer', 'aria-label': 'Write a message' }, recordingBar, row, error);

    const grow = () => {
      textarea.style.height = 'auto';
      textarea.style.height = `${Math.min(textarea.scrollHeight, 160)}px`;
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = textarea.value.trim();
      if (!text) return;
      error.textContent = '';
      live.sendText(sessionId, text);
      textarea.value = '';
      grow();
      toBottom();
    });
    textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    textarea.addEventListener('input', () => {
      grow();
      if (textarea.value.trim()) live.typing(sessionId);
    });
    textarea.addEventListener('paste', (e) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      e.preventDefault();
      uploadFiles(files);
    });
    fileInput.addEventListener('change', () => {
      uploadFiles([...(fileInput.files ?? [])]);
      fileInput.value = '';
    });

    // Voice messages.
    const recorder = new VoiceRecorder();
    let ticker: ReturnType<typeof setInterval> | null = null;
    const showRecording = (on: boolean) => {
      recordingBar.hidden = !on;
      row.hidden = on;
      if (ticker) clearInterval(ticker);
      ticker = null;
      if (on) {
        const tick = () => (recordingText.textContent = `Recording ${formatDuration(recorder.elapsedMs)}`);
        tick();
        ticker = setInterval(tick, 500);
        stopSend.focus();
      } else {
        record.focus();
      }
    };
    if (!canRecord()) {
      record.disabled = true;
      record.title = 'This browser cannot record sound here';
    }
    record.addEventListener('click', async () => {
      error.textContent = '';
      try {
        await recorder.start();
        showRecording(true);
      } catch (e) {
        error.textContent = `The microphone could not be used: ${describeError(e)}`;
      }
    });
    stopSend.addEventListener('click', async () => {
      try {
        const { blob, type } = await recorder.stop();
        showRecording(false);
        void live.upload(sessionId, blob, recordingFileName(type), type);
      } catch (e) {
        showRecording(false);
        error.textContent = describeError(e);
      }
    });
    cancelRec.addEventListener('click', () => {
      recorder.cancel();
      showRecording(false);
    });
    scope.add(() => {
      recorder.cancel();
      if (ticker) clearInterval(ticker);
    });
    return form;
  }

  // Drag and drop anywhere on the conversation.
  let dragDepth = 0;
  const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  scope.listen(section, 'dragenter', ((e: DragEvent) => {
    if (!hasFiles(e) || !composer) return;
    e.preventDefault();
    dragDepth++;
    dropHint.hidden = false;
  }) as EventListener);
  scope.listen(section, 'dragover', ((e: DragEvent) => {
    if (!hasFiles(e) || !composer) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  }) as EventListener);
  scope.listen(section, 'dragleave', (() => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) dropHint.hidden = true;
  }) as EventListener);
  scope.listen(section, 'drop', ((e: DragEvent) => {
    dragDepth = 0;
    dropHint.hidden = true;
    if (!composer || !e.dataTransfer?.files.length) return;
    e.preventDefault();
    uploadFiles([...e.dataTransfer.files]);
  }) as EventListener);

  // ---- wiring ----
  scope.add(sync.subscribe(() => renderMessages()));
  scope.add(
    live.on((e) => {
      switch (e.type) {
        case 'outbox':
        case 'uploads':
          if (e.sessionId === sessionId) paintPending();
          break;
        case 'participants':
          if (e.sessionId === sessionId) {
            paintTicksAll();
            paintHead();
          }
          break;
        case 'typing':
          if (e.sessionId === sessionId) paintTyping();
          break;
        case 'session':
          if (e.session.id === sessionId && session) {
            session = { ...session, status: e.session.status, closed_at: e.session.closed_at ?? session.closed_at };
            paintHead();
          }
          break;
        case 'state':
          paintPending();
          paintHead();
          if (e.state.kind === 'open') void refreshSession();
          break;
      }
    }),
  );

  async function refreshSession(): Promise<void> {
    try {
      const s = await ctx.api.session(sessionId);
      session = s;
      live.learnSession(s);
      loadError.textContent = '';
      paintHead();
    } catch (e) {
      loadError.textContent = `This conversation could not be opened: ${describeError(e)}`;
    }
  }

  void (async () => {
    await refreshSession();
    const loaded = session as Session | null;
    if (!loaded) {
      historyStart.replaceChildren();
      return;
    }
    if (options.mode === 'agent') {
      try {
        customerName = (await ctx.api.customer(loaded.customer_id)).name;
        ctx.setTitle(customerName);
      } catch (e) {
        ctx.fail(e);
      }
      paintHead();
      // Names already shown were placeholders.
      for (const [seq, li] of rendered) {
        const m = sync.timeline.get(seq);
        if (m?.kind === 'call') {
          // A call's line names its people in its words.
          const fresh = messageItem(m, messageCtx);
          li.replaceWith(fresh);
          rendered.set(seq, fresh);
          continue;
        }
        const sender = li.querySelector('.sender');
        if (m && sender) sender.textContent = nameOf(m.sender);
      }
      call.paint();
    }
    try {
      await sync.open();
    } catch {
      // Shown in the history area (sync.error).
      renderMessages();
      return;
    }
    renderMessages();
    if (options.focusSeq) await reveal(options.focusSeq);
  })();
  renderMessages();
  paintTyping();

  return {
    title: options.mode === 'agent' ? 'Conversation' : 'Your conversation',
    el,
    dispose: () => scope.dispose(),
  };
}

/** The full-size image, in a modal dialog. */
function imageDialog() {
  const img = h('img', { class: 'full', alt: '' });
  const caption = h('p', { class: 'lightbox-caption' });
  const download = h('a', { class: 'button secondary small', download: '' }, 'Download');
  const close = h('button', { type: 'button', class: 'button small' }, 'Close');
  const title = h('h2', { class: 'sr-only' }, 'Image');
  const el = h('dialog', { class: 'lightbox', 'aria-label': 'Image' }, title, img, h('div', { class: 'lightbox-bar' }, caption, download, close));
  let trigger: HTMLElement | null = null;
  close.addEventListener('click', () => el.close());
  el.addEventListener('click', (e) => {
    if (e.target === el) el.close();
  });
  el.addEventListener('close', () => trigger?.focus());
  return {
    el,
    async open(m: Message, from: HTMLElement, ctx: MessageContext) {
      trigger = from;
      let message = m;
      if (urlsExpired(m.attachment)) message = await ctx.fresh(m).catch(() => m);
      const a = message.attachment;
      const url = safeUrl(a?.url);
      if (!a || !url) return;
      img.src = url;
      img.alt = message.text ? `Image: ${message.text}` : `Image ${a.file_name}`;
      caption.textContent = message.text || a.file_name;
      download.href = url;
      download.download = a.file_name;
      el.showModal();
      close.focus();
    },
  };
}

export { key };
