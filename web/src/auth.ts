// The signed-in identity of this tab: kept in sessionStorage (gone when the tab closes, never
// in the URL, never shared with other tabs).

import { Api } from './api';
import type { Role } from './types';

export interface Identity {
  token: string;
  tenant: string;
  role: Role;
  id: string;
  expires_at?: string;
}

const KEY = 'confer.identity';

export function loadIdentity(storage: Storage = sessionStorage): Identity | null {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Identity;
    if (!parsed.token || !parsed.role) return null;
    if (parsed.expires_at && Date.parse(parsed.expires_at) <= Date.now()) {
      storage.removeItem(KEY);
      return null;
    }
    return parsed;
  } catch {
    return null;
  }
}

export function saveIdentity(identity: Identity, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, JSON.stringify(identity));
}

export function clearIdentity(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
}

export const isStaff = (role: Role | undefined) => role === 'agent' || role === 'admin';

/** Learns who a token names (GET /v1/me) before it is kept. */
export async function identify(api: Api, token: string, expiresAt?: string): Promise<Identity> {
  const probe = new Api({ base: api.base, token: () => token });
  const me = await probe.me();
  return { token, tenant: me.tenant, role: me.role as Role, id: me.id, expires_at: expiresAt };
}
