// Where the APIs are. Served by confer-local, the client talks to its own origin. Published
// elsewhere (docs/deploy.md: a bucket behind a CDN), a `config.json` beside index.html names the
// REST API and the WebSocket URL.

import { socketUrl } from './socket';

export interface ClientConfig {
  /** Prefix of every REST path (`''`: this origin). */
  api: string;
  /** The WebSocket URL. */
  ws: string;
}

export function parseConfig(raw: unknown, here: { protocol: string; host: string }): ClientConfig {
  const c = (raw ?? {}) as { api?: unknown; ws?: unknown };
  const api = typeof c.api === 'string' && /^https?:\/\//.test(c.api) ? c.api.replace(/\/+$/, '') : '';
  const ws = typeof c.ws === 'string' && /^wss?:\/\//.test(c.ws) ? c.ws : socketUrl(here);
  return { api, ws };
}

export async function loadConfig(): Promise<ClientConfig> {
  try {
    const res = await fetch('/config.json', { cache: 'no-cache', credentials: 'omit' });
    if (res.ok && (res.headers.get('content-type') ?? '').includes('json')) return parseConfig(await res.json(), location);
  } catch {
    // None published: this origin serves everything.
  }
  return parseConfig(null, location);
}
