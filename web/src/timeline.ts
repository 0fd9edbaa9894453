// One session's messages as the client holds them, ordered by `seq` (docs/asyncapi.yaml):
// a repeat of a held message is dropped, the watermark is the highest seq up to which nothing
// is missing, and a held message above watermark + 1 means a gap.

import type { Message } from './types';

export class Timeline {
  private readonly held = new Map<number, Message>();
  /** Every message up to here is held, or older than `oldest` and readable from history. */
  watermark = 0;
  /** The lowest seq held; Infinity while none is. */
  oldest = Number.POSITIVE_INFINITY;
  /** The watermark stands on history: the latest page was read, or the session's last seq assumed. */
  anchored = false;

  get size(): number {
    return this.held.size;
  }

  has(seq: number): boolean {
    return this.held.has(seq);
  }

  get(seq: number): Message | undefined {
    return this.held.get(seq);
  }

  /** Held messages in the session's order. */
  messages(): Message[] {
    return [...this.held.values()].sort((a, b) => a.seq - b.seq);
  }

  /** The newest held message. */
  latest(): Message | undefined {
    let top: Message | undefined;
    for (const m of this.held.values()) if (!top || m.seq > top.seq) top = m;
    return top;
  }

  /**
   * Adds a message that arrived live or from a catch-up. False when it is a repeat: already
   * held, or at or below the watermark (held, or part of the older history not loaded yet).
   */
  add(m: Message): boolean {
    if (!Number.isInteger(m.seq) || m.seq < 1 || this.held.has(m.seq)) return false;
    if (this.anchored && m.seq <= this.watermark) return false;
    this.held.set(m.seq, m);
    if (this.anchored) this.advance();
    return true;
  }

  /**
   * Anchors on the session's latest page of history (newest first, gap-free): everything up to
   * its newest message is accounted for. Messages that arrived live meanwhile are kept.
   */
  anchor(latestPage: Message[]): void {
    let top = 0;
    for (const m of latestPage) {
      if (!this.held.has(m.seq)) this.held.set(m.seq, m);
      top = Math.max(top, m.seq);
      this.oldest = Math.min(this.oldest, m.seq);
    }
    if (latestPage.length === 0) {
      // An empty session, or one whose messages all arrived live: nothing below them is missing
      // unless they start above 1.
      const lowest = Math.min(...this.held.keys());
      top = Number.isFinite(lowest) ? lowest - 1 : 0;
      this.oldest = Math.min(this.oldest, top + 1);
    }
    this.watermark = Math.max(this.watermark, top);
    this.anchored = true;
    this.advance();
  }

  /** Anchors without reading history: the session is known to end at `lastSeq` (a list's last_seq). */
  assume(lastSeq: number): void {
    this.watermark = Math.max(this.watermark, lastSeq);
    this.oldest = Math.min(this.oldest, this.watermark + 1);
    this.anchored = true;
    for (const seq of [...this.held.keys()]) if (seq < this.oldest) this.held.delete(seq);
    this.advance();
  }

  /** Adds a page of older history (any order); returns how many were new. */
  addOlder(items: Message[]): number {
    let added = 0;
    const bound = this.firstHeld();
    for (const m of items) {
      if (!Number.isInteger(m.seq) || m.seq < 1 || m.seq >= bound || this.held.has(m.seq)) continue;
      this.held.set(m.seq, m);
      this.oldest = Math.min(this.oldest, m.seq);
      added++;
    }
    return added;
  }

  /** The seq that older history is read before (`before_seq`). */
  firstHeld(): number {
    return Math.min(this.oldest, this.watermark + 1);
  }

  /** Whether older messages than those held exist. */
  hasOlder(): boolean {
    return this.anchored && this.firstHeld() > 1;
  }

  /** A message above watermark + 1 is held: the ones between are missing or on their way. */
  hasGap(): boolean {
    if (!this.anchored) return false;
    for (const seq of this.held.keys()) if (seq > this.watermark) return true;
    return false;
  }

  private advance(): void {
    while (this.held.has(this.watermark + 1)) this.watermark++;
  }
}
