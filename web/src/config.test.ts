import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import { authorizationUrl, isCallback, withoutCallback, type OidcConfig } from './oidc';

describe('client config', () => {
  const here = { protocol: 'https:', host: 'chat.example.com' };
  it('defaults to this origin and its socket, with password sign-in', () => {
    expect(parseConfig(null, here)).toEqual({ api: '', ws: 'wss://chat.example.com/ws', oidc: null });
    expect(parseConfig({ api: 'javascript:alert(1)', ws: 'http://x' }, here)).toEqual({ api: '', ws: 'wss://chat.example.com/ws', oidc: null });
  });
  it('takes a published API and WebSocket URL', () => {
    expect(parseConfig({ api: 'https://abc.execute-api.eu-west-1.amazonaws.com/', ws: 'wss://def.execute-api.eu-west-1.amazonaws.com/dev' }, here)).toEqual({
      api: 'https://abc.execute-api.eu-west-1.amazonaws.com',
      ws: 'wss://def.execute-api.eu-west-1.amazonaws.com/dev',
      oidc: null,
    });
  });
  it('takes a sign-in provider only with HTTPS endpoints', () => {
    const oidc = {
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab',
      client_id: 'c1',
      authorization_endpoint: 'https://acme.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
      token_endpoint: 'https://acme.auth.eu-west-1.amazoncognito.com/oauth2/token',
      logout_endpoint: 'https://acme.auth.eu-west-1.amazoncognito.com/logout',
    };
    expect(parseConfig({ oidc }, here).oidc).toEqual({ ...oidc, scope: undefined });
    expect(parseConfig({ oidc: { ...oidc, token_endpoint: 'http://acme/token' } }, here).oidc).toBeNull();
    expect(parseConfig({ oidc: { ...oidc, client_id: '' } }, here).oidc).toBeNull();
  });
});

class MemoryStorage implements Storage {
  private m = new Map<string, string>();
  get length() {
    return this.m.size;
  }
  clear() {
    this.m.clear();
  }
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  key(i: number) {
    return [...this.m.keys()][i] ?? null;
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
}

describe('sign-in with PKCE', () => {
  const c: OidcConfig = {
    issuer: 'https://issuer.example',
    client_id: 'console',
    authorization_endpoint: 'https://login.example/oauth2/authorize',
    token_endpoint: 'https://login.example/oauth2/token',
  };
  it('asks for a code with an S256 challenge of a verifier kept in this tab', async () => {
    const storage = new MemoryStorage();
    const url = new URL(await authorizationUrl(c, { origin: 'https://console.example' }, storage));
    const q = url.searchParams;
    expect(`${url.origin}${url.pathname}`).toBe(c.authorization_endpoint);
    expect([q.get('response_type'), q.get('client_id'), q.get('redirect_uri'), q.get('code_challenge_method')]).toEqual([
      'code',
      'console',
      'https://console.example',
      'S256',
    ]);
    expect(q.get('scope')).toBe('openid email profile');
    const pending = JSON.parse(storage.getItem('confer.oidc.pending')!) as { verifier: string; state: string };
    expect(q.get('state')).toBe(pending.state);
    expect(pending.verifier.length).toBeGreaterThanOrEqual(43);
    expect(q.get('code_challenge')).toBe(createHash('sha256').update(pending.verifier).digest('base64url'));
    expect(url.href).not.toContain(pending.verifier);
    const again = new URL(await authorizationUrl(c, { origin: 'https://console.example' }, storage));
    expect(again.searchParams.get('state')).not.toBe(q.get('state'));
  });
  it('recognises the answer and takes it out of the address', () => {
    const answer = new URL('https://console.example/?code=abc&state=xyz#/customers');
    expect(isCallback(answer)).toBe(true);
    expect(isCallback(new URL('https://console.example/?error=access_denied&state=xyz'))).toBe(true);
    expect(isCallback(new URL('https://console.example/#/join/acme.secret'))).toBe(false);
    expect(withoutCallback(answer)).toBe('/#/customers');
  });
});
