// Agents' sign-in as a cloud deployment has it: the client reads a published config.json naming
// an OpenID Connect provider (Cognito's hosted UI) and signs in with the authorization code flow
// and PKCE. The provider here is a local stand-in built from Cognito's documented endpoints
// (/oauth2/authorize, /oauth2/token, /logout), answering through the browser's network layer;
// the ID token it hands out is one confer-local itself accepts, so the console then works.

import { createHash, randomUUID } from 'node:crypto';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person, screen, Server, startStack, stopStack, waitFor } from './harness';

const PASSWORD = 'correct horse battery staple';
const HOSTED_UI = 'https://confer-dev-123456789012.auth.eu-west-1.amazoncognito.com';

let server: Server;
let browser: Browser;
let dataDir: string;

interface Seen {
  authorize: Record<string, string>[];
  token: Record<string, string>[];
  tokenStatus: number[];
  logout: Record<string, string>[];
}

/** Makes a browser context see a cloud deployment's config and its provider. */
async function asCloudDeployment(context: BrowserContext, seen: Seen): Promise<void> {
  const config = {
    oidc: {
      // confer-local's tokens are what the stand-in hands out: their issuer and audience.
      issuer: 'confer-local',
      client_id: 'confer',
      authorization_endpoint: `${HOSTED_UI}/oauth2/authorize`,
      token_endpoint: `${HOSTED_UI}/oauth2/token`,
      logout_endpoint: `${HOSTED_UI}/logout`,
    },
  };
  await context.route(`${server.base}/config.json`, (route) => route.fulfill({ json: config }));
  // The deployment's CSP lets the page call the hosted UI's token endpoint (template.yaml does).
  await context.route(
    (url) => url.origin === server.base && url.pathname === '/',
    async (route) => {
      const response = await route.fetch();
      const headers = response.headers();
      headers['content-security-policy'] = headers['content-security-policy'].replace("connect-src 'self'", `connect-src 'self' ${HOSTED_UI}`);
      await route.fulfill({ response, headers });
    },
  );
  const codes = new Map<string, { challenge: string; redirect: string }>();
  await context.route(`${HOSTED_UI}/**`, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.pathname === '/oauth2/authorize') {
      const q = Object.fromEntries(url.searchParams);
      seen.authorize.push(q);
      const code = randomUUID();
      codes.set(code, { challenge: q.code_challenge, redirect: q.redirect_uri });
      // The hosted UI's page sends the browser back once the person has signed in (a new
      // navigation, as a form post to Cognito and its redirect are).
      const back = `${q.redirect_uri}/?code=${code}&amp;state=${encodeURIComponent(q.state)}`;
      return route.fulfill({ status: 200, contentType: 'text/html', body: `<meta http-equiv="refresh" content="0;url=${back}"><p>Signing in…</p>` });
    }
    if (url.pathname === '/oauth2/token') {
      const cors = { 'access-control-allow-origin': server.base };
      if (request.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: { ...cors, 'access-control-allow-headers': '*' } });
      const form = Object.fromEntries(new URLSearchParams(request.postData() ?? ''));
      seen.token.push(form);
      const issued = codes.get(form.code ?? '');
      codes.delete(form.code ?? ''); // a code is used once
      const verifierMatches = issued && createHash('sha256').update(form.code_verifier ?? '').digest('base64url') === issued.challenge;
      const ok = issued && verifierMatches && form.grant_type === 'authorization_code' && form.client_id === 'confer' && form.redirect_uri === issued.redirect;
      seen.tokenStatus.push(ok ? 200 : 400);
      if (!ok) return route.fulfill({ status: 400, headers: cors, json: { error: 'invalid_grant' } });
      const signedIn = await server.api(null).post<{ token: string }>('/v1/local/sign-in', { tenant: 'acme', username: 'ann', password: PASSWORD });
      return route.fulfill({
        status: 200,
        headers: cors,
        json: { id_token: signedIn.token, access_token: 'opaque-access', refresh_token: 'opaque-refresh', token_type: 'Bearer', expires_in: 3600 },
      });
    }
    if (url.pathname === '/logout') {
      seen.logout.push(Object.fromEntries(url.searchParams));
      return route.fulfill({ status: 200, contentType: 'text/html', body: `<meta http-equiv="refresh" content="0;url=${url.searchParams.get('logout_uri')}/">` });
    }
    return route.fulfill({ status: 404, body: 'not found' });
  });
}

beforeAll(async () => {
  ({ server, browser, dataDir } = await startStack({ tenant: 'acme', username: 'ann', password: PASSWORD }));
});

afterAll(() => stopStack({ server, browser, dataDir }));

describe('sign-in through the hosted UI', () => {
  let callback = '';

  it('an agent signs in with a code and PKCE; neither code nor token stays in the address', async () => {
    const seen: Seen = { authorize: [], token: [], tokenStatus: [], logout: [] };
    const ann = await person(browser, server.base);
    await asCloudDeployment(ann.context, seen);
    const page = ann.page;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame() && f.url().includes('code=')) callback = f.url();
    });
    await page.goto('/#/sign-in');
    const go = page.getByRole('button', { name: 'Sign in with your work account' });
    await go.waitFor();
    expect(await page.getByLabel('Password').count(), 'no password form where a provider signs agents in').toBe(0);
    await screen(page, 'provider-sign-in');

    await go.click();
    await page.getByRole('heading', { name: 'Open sessions', level: 1 }).waitFor();
    expect(page.url()).not.toMatch(/code=|state=/);
    expect(seen.authorize).toHaveLength(1);
    const asked = seen.authorize[0];
    expect([asked.response_type, asked.client_id, asked.redirect_uri, asked.code_challenge_method]).toEqual(['code', 'confer', server.base, 'S256']);
    expect(asked.code_verifier).toBeUndefined();
    expect(seen.tokenStatus).toEqual([200]);
    expect(callback).toContain('code=');
    const stored = await page.evaluate(() => ({ identity: sessionStorage.getItem('confer.identity'), pending: sessionStorage.getItem('confer.oidc.pending') }));
    expect(JSON.parse(stored.identity ?? '{}')).toMatchObject({ tenant: 'acme', role: 'agent', id: 'ann' });
    expect(stored.pending, 'the verifier is gone once used').toBeNull();
    await screen(page, 'provider-signed-in');

    // Signing out ends the provider's session too, and comes back to the sign-in page.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await waitFor(() => seen.logout.length === 1, 'the hosted UI logout');
    expect(seen.logout[0]).toMatchObject({ client_id: 'confer', logout_uri: server.base });
    await page.getByRole('button', { name: 'Sign in with your work account' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('confer.identity'))).toBeNull();
    expect(ann.problems).toEqual([]);
    await ann.context.close();
  });

  it('an answer this tab did not ask for is refused in words, and the code is not used', async () => {
    expect(callback).not.toBe('');
    const seen: Seen = { authorize: [], token: [], tokenStatus: [], logout: [] };
    const other = await person(browser, server.base);
    await asCloudDeployment(other.context, seen);
    await other.page.goto(callback);
    await other.page.getByText('This sign-in was not started in this tab').waitFor();
    expect(seen.token, 'no code exchange was attempted').toEqual([]);
    expect(other.page.url()).not.toContain('code=');
    expect(await other.page.evaluate(() => sessionStorage.getItem('confer.identity'))).toBeNull();
    await screen(other.page, 'provider-sign-in-refused');
    await other.context.close();
  });
});
