// Everything live for the signed-in person, one per tab: the socket, each session's sync,
// messages waiting to be sent, uploads on their way, receipts, typing, presence, and the
// person's own session list with unread counts.

import { Api, describeError } from './api';
import { Calls } from './call/calls';
import { CallRecordings, putChunk } from './recording/controller';
import { canRecordCalls, TrackRecorder } from './recording/recorder';
import type { Identity } from './auth';
import { newClientId } from './format';
import { LiveSocket, socketUrl, type SocketState } from './socket';
import { SessionSync } from './sync';
import type { InboxEntry, Message, Participant, ParticipantRef, ServerFrame, Session, SessionListItem } from './types';

export interface OutboxItem {
  sessionId: string;
  clientMessageId: string;
  text: string;
  status: 'sending' | 'failed';
  error?: string;
}

export interface UploadItem {
  sessionId: string;
  clientUploadId: string;
  fileName: string;
  status: 'uploading' | 'verifying' | 'failed';
  error?: string;
  attachmentId?: string;
}

export interface Standing {
  delivered: number;
  read: number;
  online: boolean | null;
}

export type LiveEvent =
  | { type: 'state'; state: SocketState }
  | { type: 'sessions' }
  | { type: 'session'; session: SessionListItem }
  | { type: 'participants'; sessionId: string }
  | { type: 'typing'; sessionId: string }
  | { type: 'outbox'; sessionId: string }
  | { type: 'uploads'; sessionId: string }
  | { type: 'message'; message: Message }
  | { type: 'announcement'; entry: InboxEntry }
  | { type: 'error'; message: string };

export const key = (p: ParticipantRef) => `${p.kind}:${p.id}`;

/** How long "typing" shows after the last typing frame (the protocol relays one every 2 s at most). */
export const TYPING_SHOWN_MS = 4500;
/**
 * Typing frames go out at most this often per session: the server relays one every 2 s per
 * connection and drops the rest, so a little more keeps each one from landing just inside.
 */
export const TYPING_EVERY_MS = 2400;

export class Live {
  readonly socket: LiveSocket;
  readonly me: ParticipantRef;
  /** The video calls of the person's sessions. */
  readonly calls: Calls;
  /** Their recordings (made in this browser when Confer leaves it to the browser). */
  readonly recordings: CallRecordings;
  private readonly syncs = new Map<string, SessionSync>();
  private readonly listeners = new Set<(e: LiveEvent) => void>();
  readonly outbox: OutboxItem[] = [];
  readonly uploads: UploadItem[] = [];
  /** The caller's sessions (agents: the open ones), newest first. */
  sessions: SessionListItem[] = [];
  sessionsLoaded = false;
  sessionsError: string | null = null;
  private readonly standings = new Map<string, Map<string, Standing>>();
  private readonly typingUntil = new Map<string, Map<string, number>>();
  private readonly typingSentAt = new Map<string, number>();
  private readonly uploadChecks = new Map<string, ReturnType<typeof setTimeout>>();
  private typingTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly api: Api,
    readonly identity: Identity,
    url: string = socketUrl(location),
  ) {
    this.me = { kind: identity.role === 'customer' ? 'customer' : 'agent', id: identity.id };
    this.socket = new LiveSocket({
      url,
      token: () => identity.token,
      onFrame: (f) => this.onFrame(f),
      onOpen: (reconnected) => this.onOpen(reconnected),
      onState: (state) => this.emit({ type: 'state', state }),
      onRepeatedFailure: () => {
        // The handshake keeps failing: find out whether the token still holds (a 401 signs out).
        this.api.me().catch(() => undefined);
      },
    });
    this.calls = new Calls({
      me: this.me,
      isMe: (p) => this.isMe(p),
      send: (frame) => this.socket.send(frame),
      api: this.api,
    });
    this.recordings = new CallRecordings({
      me: this.me,
      calls: this.calls,
      api: this.api,
      put: putChunk,
      recorder: canRecordCalls() ? (track, stream, onChunk, onProblem) => new TrackRecorder(track, stream, onChunk, onProblem) : null,
    });
  }

  start(): void {
    this.socket.start();
    void this.loadSessions();
  }

  stop(): void {
    this.recordings.stopAll();
    this.calls.stopAll();
    this.socket.stop();
    for (const s of this.syncs.values()) s.dispose();
    this.syncs.clear();
    for (const t of this.uploadChecks.values()) clearTimeout(t);
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.listeners.clear();
  }

  on(fn: (e: LiveEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: LiveEvent): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(e);
      } catch (err) {
        console.error(err);
      }
    }
  }

  isMe(p: ParticipantRef): boolean {
    return p.kind === this.me.kind && p.id === this.me.id;
  }

  sync(sessionId: string): SessionSync {
    let s = this.syncs.get(sessionId);
    if (!s) {
      s = new SessionSync(sessionId, {
        history: (id, query) => this.api.messages(id, query),
        send: (frame) => this.socket.send(frame),
        setTimer: (fn, ms) => setTimeout(fn, ms),
        clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      });
      this.syncs.set(sessionId, s);
    }
    return s;
  }

  // ---- the session list ----

  async loadSessions(): Promise<void> {
    try {
      const query = this.me.kind === 'agent' ? { status: 'open', limit: 100 } : { limit: 100 };
      const page = await this.api.mySessions(query);
      this.sessions = page.items;
      this.sessionsLoaded = true;
      this.sessionsError = null;
      for (const item of page.items) {
        const sync = this.sync(item.id);
        sync.assume(item.last_seq);
        sync.setParticipant(true);
      }
    } catch (e) {
      this.sessionsError = describeError(e);
    }
    this.emit({ type: 'sessions' });
  }

  sessionItem(id: string): SessionListItem | undefined {
    return this.sessions.find((s) => s.id === id);
  }

  unreadTotal(): number {
    return this.sessions.reduce((n, s) => n + (s.status === 'open' ? s.unread : 0), 0);
  }

  private upsertSession(item: SessionListItem): void {
    const i = this.sessions.findIndex((s) => s.id === item.id);
    const keepOpenOnly = this.me.kind === 'agent';
    if (keepOpenOnly && item.status !== 'open') {
      if (i >= 0) this.sessions.splice(i, 1);
    } else if (i >= 0) {
      this.sessions[i] = { ...this.sessions[i], ...item };
    } else {
      this.sessions.unshift(item);
    }
    this.emit({ type: 'sessions' });
  }

  /** The person has read the session up to its watermark (a `read` frame went out). */
  markRead(sessionId: string): void {
    const sync = this.sync(sessionId);
    if (!sync.markRead()) return;
    const item = this.sessionItem(sessionId);
    if (item && sync.readUpTo > item.read_seq) {
      item.read_seq = sync.readUpTo;
      item.unread = Math.max(0, item.last_seq - item.read_seq);
      this.emit({ type: 'sessions' });
    }
  }

  // ---- participants: receipts, presence, typing ----

  /** Takes the participants' watermarks and presence from a read of the session. */
  learnSession(session: Session): void {
    const map = this.standingsOf(session.id);
    for (const p of session.participants ?? []) this.mergeStanding(map, p);
    this.sync(session.id).setParticipant((session.participants ?? []).some((p) => this.isMe(p)));
    this.emit({ type: 'participants', sessionId: session.id });
  }

  private mergeStanding(map: Map<string, Standing>, p: Participant): void {
    const k = key(p);
    const old = map.get(k) ?? { delivered: 0, read: 0, online: null };
    map.set(k, {
      delivered: Math.max(old.delivered, p.delivered_seq ?? 0, p.read_seq ?? 0),
      read: Math.max(old.read, p.read_seq ?? 0),
      online: p.online ?? old.online,
    });
  }

  private standingsOf(sessionId: string): Map<string, Standing> {
    let m = this.standings.get(sessionId);
    if (!m) {
      m = new Map();
      this.standings.set(sessionId, m);
    }
    return m;
  }

  /** Other participants' standings in a session. */
  others(sessionId: string): [string, Standing][] {
    const mine = key(this.me);
    return [...this.standingsOf(sessionId).entries()].filter(([k]) => k !== mine);
  }

  /** How far a message of mine got: read by someone else, delivered to someone else, or only stored. */
  progress(sessionId: string, seq: number): 'read' | 'delivered' | 'sent' {
    let best: 'read' | 'delivered' | 'sent' = 'sent';
    for (const [, s] of this.others(sessionId)) {
      if (s.read >= seq) return 'read';
      if (s.delivered >= seq) best = 'delivered';
    }
    return best;
  }

  typingIn(sessionId: string): ParticipantRef[] {
    const now = Date.now();
    const m = this.typingUntil.get(sessionId);
    if (!m) return [];
    const out: ParticipantRef[] = [];
    for (const [k, until] of m) {
      if (until > now) {
        const [kind, ...rest] = k.split(':');
        out.push({ kind: kind as ParticipantRef['kind'], id: rest.join(':') });
      } else m.delete(k);
    }
    return out;
  }

  /** The person is typing in a session: tell the others, at most every TYPING_EVERY_MS. */
  typing(sessionId: string): void {
    const now = Date.now();
    if (now - (this.typingSentAt.get(sessionId) ?? 0) < TYPING_EVERY_MS) return;
    if (this.socket.send({ action: 'typing', session_id: sessionId })) this.typingSentAt.set(sessionId, now);
  }

  private scheduleTypingExpiry(): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    let next = Infinity;
    for (const m of this.typingUntil.values()) for (const until of m.values()) next = Math.min(next, until);
    if (!Number.isFinite(next)) return;
    this.typingTimer = setTimeout(
      () => {
        this.typingTimer = null;
        for (const id of this.typingUntil.keys()) this.emit({ type: 'typing', sessionId: id });
        this.scheduleTypingExpiry();
      },
      Math.max(50, next - Date.now() + 20),
    );
  }

  // ---- sending ----

  sendText(sessionId: string, text: string): OutboxItem {
    const item: OutboxItem = { sessionId, clientMessageId: newClientId('m'), text, status: 'sending' };
    this.outbox.push(item);
    this.transmit(item);
    this.emit({ type: 'outbox', sessionId });
    return item;
  }

  /** Sends again with the same client_message_id: the server stores it once whatever happened before. */
  retry(clientMessageId: string): void {
    const item = this.outbox.find((o) => o.clientMessageId === clientMessageId);
    if (!item) return;
    item.status = 'sending';
    item.error = undefined;
    this.transmit(item);
    this.emit({ type: 'outbox', sessionId: item.sessionId });
  }

  discard(clientMessageId: string): void {
    const i = this.outbox.findIndex((o) => o.clientMessageId === clientMessageId);
    if (i < 0) return;
    const [item] = this.outbox.splice(i, 1);
    this.emit({ type: 'outbox', sessionId: item.sessionId });
  }

  private transmit(item: OutboxItem): void {
    this.socket.send({
      action: 'send',
      session_id: item.sessionId,
      client_message_id: item.clientMessageId,
      text: item.text,
    });
    // When the socket is not open, the item stays `sending` and goes out when it opens.
  }

  // ---- uploads ----

  /** Uploads a file or a recording: request, PUT to the signed URL, then the verified message arrives as a frame. */
  async upload(sessionId: string, blob: Blob, fileName: string, contentType: string, caption?: string): Promise<void> {
    const item: UploadItem = { sessionId, clientUploadId: newClientId('u'), fileName, status: 'uploading' };
    this.uploads.push(item);
    this.emit({ type: 'uploads', sessionId });
    try {
      const ticket = await this.api.requestUpload(sessionId, {
        client_upload_id: item.clientUploadId,
        file_name: fileName,
        content_type: contentType,
        size: blob.size,
        ...(caption ? { caption } : {}),
      });
      item.attachmentId = ticket.attachment.id;
      if (ticket.upload) {
        let response: Response;
        try {
          response = await fetch(ticket.upload.url, {
            method: ticket.upload.method || 'PUT',
            headers: ticket.upload.headers,
            body: blob,
            credentials: 'omit',
          });
        } catch {
          throw new Error(`${fileName} could not be uploaded: Confer could not be reached.`);
        }
        if (!response.ok) {
          const body = await response.json().catch(() => null);
          const message = (body as { error?: { message?: string } } | null)?.error?.message;
          throw new Error(`${fileName} could not be uploaded: ${message ?? `the server answered ${response.status}`}`);
        }
      }
      if (!this.uploads.includes(item)) return; // its message already arrived
      item.status = 'verifying';
      this.emit({ type: 'uploads', sessionId });
      this.checkUploadLater(item, 15_000);
    } catch (e) {
      item.status = 'failed';
      item.error = describeError(e);
      this.emit({ type: 'uploads', sessionId });
    }
  }

  /** Should neither the message nor a refusal arrive, ask for the upload's status. */
  private checkUploadLater(item: UploadItem, ms: number): void {
    const t = setTimeout(async () => {
      this.uploadChecks.delete(item.clientUploadId);
      if (!this.uploads.includes(item) || item.status !== 'verifying' || !item.attachmentId) return;
      try {
        const a = await this.api.request<{ status: string; rejection?: { code?: string; message?: string } | null }>(
          'GET',
          `/v1/sessions/${encodeURIComponent(item.sessionId)}/attachments/${encodeURIComponent(item.attachmentId)}`,
        );
        if (a.status === 'rejected') {
          this.uploadFailed(item, a.rejection?.message ?? a.rejection?.code ?? 'it was refused');
        } else if (a.status === 'ready') {
          await this.sync(item.sessionId).catchUp();
          this.uploadArrived(item.sessionId, item.clientUploadId);
        } else {
          this.checkUploadLater(item, 15_000);
        }
      } catch {
        this.checkUploadLater(item, 15_000);
      }
    }, ms);
    this.uploadChecks.set(item.clientUploadId, t);
  }

  private uploadFailed(item: UploadItem, why: string): void {
    item.status = 'failed';
    item.error = `${item.fileName} was refused: ${why}`;
    this.emit({ type: 'uploads', sessionId: item.sessionId });
  }

  private uploadArrived(sessionId: string, clientUploadId: string): void {
    const i = this.uploads.findIndex((u) => u.sessionId === sessionId && u.clientUploadId === clientUploadId);
    if (i < 0) return;
    this.uploads.splice(i, 1);
    this.emit({ type: 'uploads', sessionId });
  }

  dismissUpload(clientUploadId: string): void {
    const i = this.uploads.findIndex((u) => u.clientUploadId === clientUploadId);
    if (i < 0) return;
    const [item] = this.uploads.splice(i, 1);
    this.emit({ type: 'uploads', sessionId: item.sessionId });
  }

  // ---- frames ----

  private onOpen(reconnected: boolean): void {
    for (const item of this.outbox) if (item.status === 'sending') this.transmit(item);
    if (reconnected) {
      for (const s of this.syncs.values()) void s.reconnected();
      void this.loadSessions();
      this.calls.reconnected();
    }
  }

  private receiveMessage(m: Message): void {
    const sync = this.sync(m.session_id);
    const isNew = sync.receive(m);
    // The sender stopped typing.
    const typing = this.typingUntil.get(m.session_id);
    if (typing?.delete(key(m.sender))) this.emit({ type: 'typing', sessionId: m.session_id });
    if (this.isMe(m.sender) && m.kind !== 'text') this.uploadArrived(m.session_id, m.client_message_id);
    const item = this.sessionItem(m.session_id);
    if (item && m.seq > item.last_seq) {
      item.last_seq = m.seq;
      item.unread = Math.max(0, item.last_seq - item.read_seq);
      this.emit({ type: 'sessions' });
    }
    if (isNew) this.emit({ type: 'message', message: m });
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'message':
        this.receiveMessage(frame.message);
        break;
      case 'ack': {
        const i = this.outbox.findIndex((o) => o.clientMessageId === frame.client_message_id);
        if (i >= 0) {
          const [item] = this.outbox.splice(i, 1);
          this.emit({ type: 'outbox', sessionId: item.sessionId });
        }
        this.receiveMessage(frame.message);
        break;
      }
      case 'receipt': {
        const map = this.standingsOf(frame.session_id);
        const k = key(frame.participant);
        const old = map.get(k) ?? { delivered: 0, read: 0, online: null };
        if (frame.status === 'read') old.read = Math.max(old.read, frame.up_to_seq);
        old.delivered = Math.max(old.delivered, frame.up_to_seq);
        map.set(k, old);
        if (this.isMe(frame.participant) && frame.status === 'read') {
          // Read on another device of mine.
          const item = this.sessionItem(frame.session_id);
          if (item && frame.up_to_seq > item.read_seq) {
            item.read_seq = frame.up_to_seq;
            item.unread = Math.max(0, item.last_seq - item.read_seq);
            this.emit({ type: 'sessions' });
          }
        }
        this.emit({ type: 'participants', sessionId: frame.session_id });
        break;
      }
      case 'presence': {
        const map = this.standingsOf(frame.session_id);
        const k = key(frame.participant);
        const old = map.get(k) ?? { delivered: 0, read: 0, online: null };
        map.set(k, { ...old, online: frame.online });
        if (!frame.online) this.typingUntil.get(frame.session_id)?.delete(k);
        this.emit({ type: 'participants', sessionId: frame.session_id });
        break;
      }
      case 'typing': {
        if (this.isMe(frame.participant)) break;
        let m = this.typingUntil.get(frame.session_id);
        if (!m) {
          m = new Map();
          this.typingUntil.set(frame.session_id, m);
        }
        m.set(key(frame.participant), Date.now() + TYPING_SHOWN_MS);
        this.scheduleTypingExpiry();
        this.emit({ type: 'typing', sessionId: frame.session_id });
        break;
      }
      case 'session':
        this.upsertSession(frame.session);
        this.sync(frame.session.id).assume(frame.session.last_seq ?? 0);
        this.sync(frame.session.id).setParticipant(true);
        this.emit({ type: 'session', session: frame.session });
        break;
      case 'call':
        this.calls.onCallFrame(frame);
        break;
      case 'signal':
        this.calls.onSignal(frame);
        break;
      case 'announcement':
        this.emit({ type: 'announcement', entry: frame.announcement });
        break;
      case 'error': {
        if (this.calls.claimsError(frame)) break;
        const cmid = frame.client_message_id;
        const pending = cmid ? this.outbox.find((o) => o.clientMessageId === cmid) : undefined;
        const upload = this.uploads.find(
          (u) => (cmid && u.clientUploadId === cmid) || (frame.attachment_id && u.attachmentId === frame.attachment_id),
        );
        if (pending) {
          pending.status = 'failed';
          pending.error = frame.message;
          this.emit({ type: 'outbox', sessionId: pending.sessionId });
        } else if (upload) {
          this.uploadFailed(upload, frame.message);
        } else {
          this.emit({ type: 'error', message: frame.message });
        }
        break;
      }
      case 'pong':
        break;
    }
  }
}
