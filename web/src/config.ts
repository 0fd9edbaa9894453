// Where the APIs are, and how agents sign in. Served by confer-local, the client talks to its
// own origin and agents sign in with a password. Published elsewhere (docs/deploy.md: a bucket
// behind a CDN), a `config.json` beside index.html names the REST API, the WebSocket URL and
// the OpenID Connect provider agents sign in through (Cognito's hosted UI).

import type { OidcConfig } from './oidc';
import { socketUrl } from './socket';

export interface ClientConfig {
  /** Prefix of every REST path (`''`: this origin). */
  api: string;
  /** The WebSocket URL. */
  ws: string;
  /** The provider of agents' sign-in, when there is one. */
  oidc: OidcConfig | null;
}

const isHttps = (v: unknown): v is string => typeof v === 'string' && /^https:\/\/[^\s]+$/.test(v);

function parseOidc(raw: unknown): OidcConfig | null {
  if (!raw || typeof raw !== 'object') return null;
  const o = raw as Record<string, unknown>;
  if (typeof o.issuer !== 'string' || !o.issuer || typeof o.client_id !== 'string' || !o.client_id) return null;
  if (!isHttps(o.authorization_endpoint) || !isHttps(o.token_endpoint)) return null;
  return {
    issuer: o.issuer,
    client_id: o.client_id,
    authorization_endpoint: o.authorization_endpoint,
    token_endpoint: o.token_endpoint,
    logout_endpoint: isHttps(o.logout_endpoint) ? o.logout_endpoint : undefined,
    scope: typeof o.scope === 'string' ? o.scope : undefined,
  };
}

export function parseConfig(raw: unknown, here: { protocol: string; host: string }): ClientConfig {
  const c = (raw ?? {}) as { api?: unknown; ws?: unknown; oidc?: unknown };
  const api = typeof c.api === 'string' && /^https?:\/\//.test(c.api) ? c.api.replace(/\/+$/, '') : '';
  const ws = typeof c.ws === 'string' && /^wss?:\/\//.test(c.ws) ? c.ws : socketUrl(here);
  return { api, ws, oidc: parseOidc(c.oidc) };
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
