// The WebSocket to Confer: the token as a subprotocol, reconnects by itself with exponential
// backoff after any drop (network, server restart, idle timeout), pings to keep the connection
// alive and to find a dead one.

import { backoffDelay, type BackoffOptions } from './backoff';
import type { ServerFrame } from './types';

export const SUBPROTOCOL = 'confer.v1';

// readyState values, named here so that the module loads where WebSocket is not a global.
const CONNECTING = 0;
const OPEN = 1;

export type SocketState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open' }
  | { kind: 'waiting'; attempt: number; retryAt: number }
  | { kind: 'stopped' };

export interface SocketOptions {
  url: string;
  token: () => string | null;
  onFrame: (frame: ServerFrame) => void;
  /** The socket opened; `reconnected` when an earlier one had been open. */
  onOpen: (reconnected: boolean) => void;
  onState: (state: SocketState) => void;
  /** Several attempts in a row failed: the token may have expired. */
  onRepeatedFailure?: (attempts: number) => void;
  backoff?: BackoffOptions;
  /** How often to ping an open socket (API Gateway closes sockets idle for 10 minutes). */
  pingEveryMs?: number;
  /** How long to wait for the pong before the socket is taken for dead. */
  pongTimeoutMs?: number;
  createSocket?: (url: string, protocols: string[]) => WebSocket;
}

export function socketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

export class LiveSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private everOpened = false;
  private stopped = true;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private failuresInRow = 0;
  state: SocketState = { kind: 'stopped' };

  constructor(private readonly options: SocketOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.onerror = null;
      ws.onopen = null;
      if (ws.readyState === OPEN || ws.readyState === CONNECTING) ws.close(1000, 'signed out');
    }
    this.setState({ kind: 'stopped' });
  }

  get isOpen(): boolean {
    return this.ws?.readyState === OPEN;
  }

  /** Sends a frame now; false when the socket is not open (the caller keeps it for later). */
  send(frame: Record<string, unknown>): boolean {
    if (!this.ws || this.ws.readyState !== OPEN) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** Try again now rather than at the end of the current wait (the network came back, the tab became visible). */
  retryNow(): void {
    if (this.stopped || this.state.kind !== 'waiting') return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connect();
  }

  private connect(): void {
    const token = this.options.token();
    if (!token) {
      this.stop();
      return;
    }
    this.setState({ kind: 'connecting', attempt: this.attempt });
    let ws: WebSocket;
    try {
      ws = (this.options.createSocket ?? ((u, p) => new WebSocket(u, p)))(this.options.url, [SUBPROTOCOL, `bearer.${token}`]);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      this.failuresInRow = 0;
      this.setState({ kind: 'open' });
      this.startPinging();
      this.options.onOpen(reconnected);
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(event.data) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === 'pong' && this.pongTimer) {
        clearTimeout(this.pongTimer);
        this.pongTimer = null;
      }
      this.options.onFrame(frame);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopPinging();
      if (!opened) {
        this.failuresInRow++;
        if (this.failuresInRow % 3 === 0) this.options.onRepeatedFailure?.(this.failuresInRow);
      }
      if (!this.stopped) this.scheduleRetry();
    };
    ws.onerror = () => {
      // A close event follows; the retry is scheduled there.
    };
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.options.backoff);
    this.setState({ kind: 'waiting', attempt: this.attempt, retryAt: Date.now() + delay });
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private startPinging(): void {
    this.stopPinging();
    const every = this.options.pingEveryMs ?? 60_000;
    const timeout = this.options.pongTimeoutMs ?? 10_000;
    this.pingTimer = setInterval(() => {
      if (!this.send({ action: 'ping' })) return;
      if (this.pongTimer) return;
      this.pongTimer = setTimeout(() => {
        this.pongTimer = null;
        // No answer: the connection is dead without having said so. Drop it and reconnect.
        const ws = this.ws;
        if (ws) {
          this.ws = null;
          ws.onclose = null;
          ws.close();
          this.stopPinging();
          this.scheduleRetry();
        }
      }, timeout);
    }, every);
  }

  private stopPinging(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pingTimer = null;
    this.pongTimer = null;
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopPinging();
  }

  private setState(state: SocketState): void {
    this.state = state;
    this.options.onState(state);
  }
}
