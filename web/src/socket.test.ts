import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveSocket, socketUrl, type SocketState } from './socket';
import type { ServerFrame } from './types';

/** A WebSocket the test opens, closes and talks through. */
class FakeSocket {
  static made: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  closedBy: string | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.made.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(_code?: number, reason?: string) {
    this.readyState = 3;
    this.closedBy = reason ?? 'client';
  }
  // The server's side:
  accept() {
    this.readyState = 1;
    this.onopen?.();
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
  push(frame: object) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

function socket(extra: Partial<ConstructorParameters<typeof LiveSocket>[0]> = {}) {
  const frames: ServerFrame[] = [];
  const opens: boolean[] = [];
  const states: SocketState[] = [];
  const s = new LiveSocket({
    url: 'ws://127.0.0.1:8080/ws',
    token: () => 'tok',
    onFrame: (f) => frames.push(f),
    onOpen: (r) => opens.push(r),
    onState: (st) => states.push(st),
    backoff: { random: () => 0.999999 },
    createSocket: (u, p) => new FakeSocket(u, p) as unknown as WebSocket,
    ...extra,
  });
  return { s, frames, opens, states };
}

beforeEach(() => {
  FakeSocket.made = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('LiveSocket', () => {
  it('offers the token as a subprotocol next to confer.v1', () => {
    const { s } = socket();
    s.start();
    expect(FakeSocket.made[0].protocols).toEqual(['confer.v1', 'bearer.tok']);
    expect(socketUrl({ protocol: 'https:', host: 'chat.example.com' })).toBe('wss://chat.example.com/ws');
    expect(socketUrl({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/ws');
  });

  it('reconnects after a drop with growing waits, and says it reconnected', () => {
    const { s, opens, states } = socket();
    s.start();
    FakeSocket.made[0].accept();
    expect(opens).toEqual([false]);
    FakeSocket.made[0].drop();
    // The server is down: attempts at 0.5 s, then 1 s, then 2 s later.
    expect(states.at(-1)).toMatchObject({ kind: 'waiting', attempt: 0 });
    vi.advanceTimersByTime(499);
    expect(FakeSocket.made.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.made.length).toBe(2);
    FakeSocket.made[1].drop();
    vi.advanceTimersByTime(999);
    expect(FakeSocket.made.length).toBe(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.made.length).toBe(3);
    FakeSocket.made[2].drop();
    vi.advanceTimersByTime(2000);
    expect(FakeSocket.made.length).toBe(4);
    // Back: the wait starts over from the first step after the next drop.
    FakeSocket.made[3].accept();
    expect(opens).toEqual([false, true]);
    FakeSocket.made[3].drop();
    vi.advanceTimersByTime(500);
    expect(FakeSocket.made.length).toBe(5);
  });

  it('tells when handshakes keep failing', () => {
    const failures: number[] = [];
    const { s } = socket({ onRepeatedFailure: (n) => failures.push(n) });
    s.start();
    for (let i = 0; i < 6; i++) {
      FakeSocket.made.at(-1)!.drop();
      vi.advanceTimersByTime(60_000);
    }
    expect(failures).toEqual([3, 6]);
  });

  it('retries at once when asked, and sends only while open', () => {
    const { s } = socket();
    s.start();
    expect(s.send({ action: 'ping' })).toBe(false);
    FakeSocket.made[0].drop();
    s.retryNow();
    expect(FakeSocket.made.length).toBe(2);
    FakeSocket.made[1].accept();
    expect(s.send({ action: 'ping' })).toBe(true);
    expect(FakeSocket.made[1].sent).toEqual(['{"action":"ping"}']);
  });

  it('passes frames on and drops what is not JSON', () => {
    const { s, frames } = socket();
    s.start();
    FakeSocket.made[0].accept();
    FakeSocket.made[0].push({ type: 'pong' });
    FakeSocket.made[0].onmessage?.({ data: 'not json' });
    expect(frames).toEqual([{ type: 'pong' }]);
  });

  it('pings, and takes a connection without a pong for dead', () => {
    const { s } = socket({ pingEveryMs: 1000, pongTimeoutMs: 500 });
    s.start();
    const first = FakeSocket.made[0];
    first.accept();
    vi.advanceTimersByTime(1000);
    expect(first.sent).toEqual(['{"action":"ping"}']);
    first.push({ type: 'pong' });
    vi.advanceTimersByTime(1000);
    expect(first.sent.length).toBe(2);
    // No pong this time.
    vi.advanceTimersByTime(500);
    expect(first.closedBy).not.toBeNull();
    vi.advanceTimersByTime(500);
    expect(FakeSocket.made.length).toBe(2);
  });

  it('stops for good when told', () => {
    const { s, states } = socket();
    s.start();
    FakeSocket.made[0].accept();
    s.stop();
    expect(FakeSocket.made[0].closedBy).toBe('signed out');
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made.length).toBe(1);
    expect(states.at(-1)).toEqual({ kind: 'stopped' });
  });
});
