// Keeping one session's timeline complete: live frames, the gap wait and catch-up with
// `after_seq=<watermark>`, older history, and acknowledgements by watermark (docs/asyncapi.yaml).

import { describeError } from './api';
import { Timeline } from './timeline';
import type { Message, Page } from './types';

export interface SyncDeps {
  /** GET /v1/sessions/{id}/messages with these query parameters. */
  history(sessionId: string, query: Record<string, string | number>): Promise<Page<Message>>;
  /** Sends a frame on the socket; false when it is not open. */
  send(frame: Record<string, unknown>): boolean;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export interface SyncOptions {
  /** How long a gap may stay before it is filled from history (a concurrent sender's frame is usually ms behind). */
  gapWaitMs: number;
  /** Messages per history page. */
  pageSize: number;
}

export type SyncListener = (sync: SessionSync) => void;

export class SessionSync {
  readonly timeline = new Timeline();
  /** The last failure to read history, for the person to see; null once reading works again. */
  error: string | null = null;
  private readonly listeners = new Set<SyncListener>();
  private readonly options: SyncOptions;
  private gapTimer: unknown = null;
  private catching: Promise<void> | null = null;
  private catchAgain = false;
  private loadingLatest: Promise<void> | null = null;
  private loadingOlder: Promise<number> | null = null;
  private acked = 0;
  private readSent = 0;
  /** Only participants acknowledge and mark read (staff may read sessions they are not in). */
  private participant = false;

  constructor(
    readonly sessionId: string,
    private readonly deps: SyncDeps,
    options: Partial<SyncOptions> = {},
  ) {
    this.options = { gapWaitMs: 1000, pageSize: 50, ...options };
  }

  subscribe(fn: SyncListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get watermark(): number {
    return this.timeline.watermark;
  }

  /** Makes the latest messages readable: the latest page, or, when only a last seq was assumed, the page before what is held. */
  open(): Promise<unknown> {
    if (!this.timeline.anchored) return this.loadLatest();
    // Known only by its last seq (and what arrived since): read the page before what is held.
    if (this.timeline.size < this.options.pageSize && this.timeline.hasOlder()) return this.loadOlder();
    return Promise.resolve();
  }

  /** Reads the newest page of history and anchors the watermark on it. */
  loadLatest(): Promise<void> {
    if (this.loadingLatest) return this.loadingLatest;
    this.loadingLatest = (async () => {
      try {
        const page = await this.deps.history(this.sessionId, { limit: this.options.pageSize });
        this.timeline.anchor(page.items);
        this.error = null;
        this.changed(true);
      } catch (e) {
        this.error = describeError(e);
        this.emit();
        throw e;
      } finally {
        this.loadingLatest = null;
      }
    })();
    return this.loadingLatest;
  }

  /** Reads the page before the oldest held message; resolves to how many were added. */
  loadOlder(): Promise<number> {
    if (!this.timeline.hasOlder()) return Promise.resolve(0);
    if (this.loadingOlder) return this.loadingOlder;
    this.loadingOlder = (async () => {
      try {
        const page = await this.deps.history(this.sessionId, {
          before_seq: this.timeline.firstHeld(),
          limit: this.options.pageSize,
        });
        const added = this.timeline.addOlder(page.items);
        if (page.items.length === 0) {
          // Nothing older exists after all.
          this.timeline.oldest = 1;
        }
        this.error = null;
        this.emit();
        return added;
      } catch (e) {
        this.error = describeError(e);
        this.emit();
        throw e;
      } finally {
        this.loadingOlder = null;
      }
    })();
    return this.loadingOlder;
  }

  get loading(): boolean {
    return this.loadingLatest !== null || this.loadingOlder !== null;
  }

  /** Anchors on a session's known last seq without reading history (a session list's item). */
  assume(lastSeq: number): void {
    // Once messages are held, only history fills what is missing (catch-up), never an assumption.
    if (this.timeline.size > 0) return;
    if (this.timeline.anchored && lastSeq <= this.timeline.watermark) return;
    const wasAnchored = this.timeline.anchored;
    this.timeline.assume(lastSeq);
    if (!wasAnchored) this.acked = Math.max(this.acked, this.timeline.watermark);
    this.changed(false);
  }

  /** A message from a live frame (`message`, or `ack` for one's own). False when it was a repeat. */
  receive(m: Message): boolean {
    if (m.session_id !== this.sessionId) return false;
    if (!this.timeline.add(m)) return false;
    this.changed(true);
    return true;
  }

  /** After the socket (re)opened: acknowledge again and read whatever was missed. */
  reconnected(): Promise<void> {
    this.acked = 0;
    this.readSent = 0;
    if (!this.timeline.anchored) return this.loadingLatest ?? Promise.resolve();
    return this.catchUp();
  }

  /** Reads everything after the watermark, oldest first, page by page until the end. */
  catchUp(): Promise<void> {
    if (!this.timeline.anchored) return Promise.resolve();
    if (this.catching) {
      this.catchAgain = true;
      return this.catching;
    }
    this.catching = (async () => {
      try {
        do {
          this.catchAgain = false;
          for (;;) {
            const from = this.timeline.watermark;
            const page = await this.deps.history(this.sessionId, {
              after_seq: from,
              limit: Math.max(this.options.pageSize, 100),
            });
            let added = false;
            for (const m of page.items) added = this.timeline.add(m) || added;
            if (added) this.emit();
            if (!page.next_cursor || this.timeline.watermark <= from) break;
          }
        } while (this.catchAgain);
        this.error = null;
      } catch (e) {
        this.error = describeError(e);
        this.emit();
      } finally {
        this.catching = null;
      }
      this.changed(true);
    })();
    return this.catching;
  }

  /** Whether the caller takes part in the session (known from a session list or the session's participants). */
  setParticipant(yes: boolean): void {
    const was = this.participant;
    this.participant = yes;
    if (yes && !was) this.ack();
  }

  get isParticipant(): boolean {
    return this.participant;
  }

  /** Acknowledges delivery up to the watermark (never beyond it). */
  ack(): void {
    const w = this.timeline.watermark;
    if (!this.participant) return;
    if (w > this.acked && this.deps.send({ action: 'ack', session_id: this.sessionId, up_to_seq: w })) this.acked = w;
  }

  /** Marks everything up to the watermark as read; true when a `read` frame went out. */
  markRead(): boolean {
    const w = this.timeline.watermark;
    if (!this.participant) return false;
    if (w > this.readSent && this.deps.send({ action: 'read', session_id: this.sessionId, up_to_seq: w })) {
      this.readSent = w;
      return true;
    }
    return false;
  }

  get readUpTo(): number {
    return this.readSent;
  }

  dispose(): void {
    if (this.gapTimer !== null) this.deps.clearTimer(this.gapTimer);
    this.gapTimer = null;
    this.listeners.clear();
  }

  private changed(acknowledge: boolean): void {
    this.emit();
    if (!this.timeline.anchored) return;
    if (this.timeline.hasGap()) {
      if (this.gapTimer === null) {
        this.gapTimer = this.deps.setTimer(() => {
          this.gapTimer = null;
          if (this.timeline.hasGap()) void this.catchUp();
        }, this.options.gapWaitMs);
      }
    } else if (this.gapTimer !== null) {
      this.deps.clearTimer(this.gapTimer);
      this.gapTimer = null;
    }
    if (acknowledge) this.ack();
  }

  private emit(): void {
    for (const fn of [...this.listeners]) fn(this);
  }
}
