import { describe, expect, it } from 'vitest';
import { SessionSync, type SyncDeps } from './sync';
import type { Message, Page } from './types';
import { msg } from './testing';

/** A session's history as the server answers it (after_seq, before_seq, the latest page), and the frames sent. */
class FakeServer {
  messages: Message[] = [];
  sent: Record<string, unknown>[] = [];
  requests: Record<string, string | number>[] = [];
  open = true;
  failing = false;
  timers: { fn: () => void; ms: number; id: number }[] = [];
  private nextTimer = 1;

  post(n: number): Message {
    const m = msg(this.messages.length + 1, `text ${this.messages.length + 1}`);
    for (let i = 0; i < n - 1; i++) this.messages.push(msg(this.messages.length + 1));
    this.messages.push({ ...m, seq: this.messages.length + 1, id: `msg_${this.messages.length + 1}` });
    return this.messages[this.messages.length - 1];
  }

  add(count: number): Message[] {
    const out: Message[] = [];
    for (let i = 0; i < count; i++) {
      const m = msg(this.messages.length + 1);
      this.messages.push(m);
      out.push(m);
    }
    return out;
  }

  deps(): SyncDeps {
    return {
      history: async (_id, q): Promise<Page<Message>> => {
        this.requests.push(q);
        if (this.failing) throw new Error('Confer could not be reached.');
        const limit = Number(q.limit ?? 50);
        if (q.after_seq !== undefined) {
          const items = this.messages.filter((m) => m.seq > Number(q.after_seq)).slice(0, limit);
          const more = this.messages.some((m) => m.seq > (items.at(-1)?.seq ?? Infinity));
          return { items, next_cursor: more ? 'c' : null };
        }
        const before = q.before_seq !== undefined ? Number(q.before_seq) : Infinity;
        const items = this.messages.filter((m) => m.seq < before).reverse().slice(0, limit);
        return { items, next_cursor: items.length === limit ? 'c' : null };
      },
      send: (frame) => {
        if (!this.open) return false;
        this.sent.push(frame);
        return true;
      },
      setTimer: (fn, ms) => {
        const id = this.nextTimer++;
        this.timers.push({ fn, ms, id });
        return id;
      },
      clearTimer: (h) => {
        this.timers = this.timers.filter((t) => t.id !== h);
      },
    };
  }

  async fireTimers(): Promise<void> {
    const due = this.timers.splice(0);
    for (const t of due) t.fn();
    await flush();
  }

  acks(action = 'ack'): number[] {
    return this.sent.filter((f) => f.action === action).map((f) => f.up_to_seq as number);
  }
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function seqs(s: SessionSync): number[] {
  return s.timeline.messages().map((m) => m.seq);
}

describe('SessionSync', () => {
  it('loads the latest page and acknowledges its watermark', async () => {
    const server = new FakeServer();
    server.add(120);
    const sync = new SessionSync('ses_1', server.deps(), { pageSize: 50 });
    sync.setParticipant(true);
    await sync.open();
    expect(seqs(sync)).toEqual(Array.from({ length: 50 }, (_, i) => 71 + i));
    expect(server.acks()).toEqual([120]);
    // Older pages as one scrolls up, down to the first message.
    expect(await sync.loadOlder()).toBe(50);
    expect(await sync.loadOlder()).toBe(20);
    expect(sync.timeline.hasOlder()).toBe(false);
    expect(seqs(sync)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(server.requests.map((q) => q.before_seq).filter(Boolean)).toEqual([71, 21]);
  });

  it('waits briefly on a gap, then fills it from history with after_seq', async () => {
    const server = new FakeServer();
    server.add(3);
    const sync = new SessionSync('ses_1', server.deps(), { gapWaitMs: 1000 });
    sync.setParticipant(true);
    await sync.open();
    const [m4, m5, m6] = server.add(3);
    // 4 is lost on the way; 6 and 5 arrive out of order.
    expect(sync.receive(m6)).toBe(true);
    expect(sync.receive(m5)).toBe(true);
    expect(sync.watermark).toBe(3);
    expect(server.timers.map((t) => t.ms)).toEqual([1000]);
    // Never acknowledges beyond the watermark.
    expect(server.acks()).toEqual([3]);
    await server.fireTimers();
    expect(server.requests.at(-1)).toMatchObject({ after_seq: 3 });
    expect(seqs(sync)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sync.watermark).toBe(6);
    expect(server.acks()).toEqual([3, 6]);
    // The late frame of 4 is a repeat.
    expect(sync.receive(m4)).toBe(false);
    expect(sync.timeline.size).toBe(6);
  });

  it('a gap closed by the late frame itself needs no history', async () => {
    const server = new FakeServer();
    server.add(1);
    const sync = new SessionSync('ses_1', server.deps());
    sync.setParticipant(true);
    await sync.open();
    const [m2, m3] = server.add(2);
    sync.receive(m3);
    expect(server.timers.length).toBe(1);
    sync.receive(m2);
    expect(server.timers.length).toBe(0);
    expect(server.requests.length).toBe(1);
    expect(sync.watermark).toBe(3);
  });

  it('after a reconnect reads everything after the watermark, page by page, without duplicates', async () => {
    const server = new FakeServer();
    server.add(10);
    const sync = new SessionSync('ses_1', server.deps(), { pageSize: 50 });
    sync.setParticipant(true);
    await sync.open();
    server.open = false; // the socket drops
    const missed = server.add(250);
    server.open = true;
    // One missed frame was delivered just as the socket reopened (connect first, then read).
    sync.receive(missed[0]);
    await sync.reconnected();
    expect(seqs(sync)).toEqual(Array.from({ length: 260 }, (_, i) => i + 1));
    const afters = server.requests.map((q) => q.after_seq).filter((v) => v !== undefined);
    expect(afters).toEqual([11, 111, 211]);
    expect(server.acks().at(-1)).toBe(260);
    // Live frames of messages the catch-up already brought are dropped.
    expect(sync.receive(missed[249])).toBe(false);
  });

  it('catch-ups asked for while one runs are folded into it', async () => {
    const server = new FakeServer();
    server.add(2);
    const sync = new SessionSync('ses_1', server.deps());
    await sync.open();
    server.add(3);
    const a = sync.catchUp();
    const b = sync.catchUp();
    await Promise.all([a, b]);
    expect(sync.watermark).toBe(5);
    expect(server.requests.filter((q) => q.after_seq !== undefined).length).toBeLessThanOrEqual(2);
  });

  it('reports a failed read in words and keeps what it has', async () => {
    const server = new FakeServer();
    server.add(2);
    const sync = new SessionSync('ses_1', server.deps());
    await sync.open();
    server.failing = true;
    server.add(2);
    await sync.catchUp();
    expect(sync.error).toBe('Confer could not be reached.');
    expect(sync.watermark).toBe(2);
    server.failing = false;
    await sync.catchUp();
    expect(sync.error).toBeNull();
    expect(sync.watermark).toBe(4);
  });

  it('acknowledges and marks read only as a participant, and only forwards', async () => {
    const server = new FakeServer();
    server.add(4);
    const sync = new SessionSync('ses_1', server.deps());
    await sync.open();
    expect(server.sent).toEqual([]);
    expect(sync.markRead()).toBe(false);
    sync.setParticipant(true);
    expect(server.acks()).toEqual([4]);
    expect(sync.markRead()).toBe(true);
    expect(sync.markRead()).toBe(false);
    expect(server.acks('read')).toEqual([4]);
    // After a reconnect both go out again (one may have been lost with the old socket).
    await sync.reconnected();
    sync.markRead();
    expect(server.acks()).toEqual([4, 4]);
    expect(server.acks('read')).toEqual([4, 4]);
  });

  it('an ack that could not be sent is sent with the next change', async () => {
    const server = new FakeServer();
    server.add(1);
    const sync = new SessionSync('ses_1', server.deps());
    sync.setParticipant(true);
    server.open = false;
    await sync.open();
    expect(server.acks()).toEqual([]);
    server.open = true;
    sync.receive(server.add(1)[0]);
    expect(server.acks()).toEqual([2]);
  });

  it('a session known only by its last seq acknowledges only what arrives', async () => {
    const server = new FakeServer();
    server.add(7);
    const sync = new SessionSync('ses_1', server.deps());
    sync.assume(7);
    sync.setParticipant(true);
    expect(server.acks()).toEqual([]);
    sync.receive(server.add(1)[0]);
    expect(server.acks()).toEqual([8]);
    // Opening it reads the page before what it holds.
    await sync.open();
    expect(seqs(sync)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('ignores messages of other sessions', async () => {
    const server = new FakeServer();
    const sync = new SessionSync('ses_1', server.deps());
    await sync.open();
    expect(sync.receive(msg(1, 'x', 'ses_2'))).toBe(false);
  });
});
