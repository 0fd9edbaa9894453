// Agents' sign-in through an OpenID Connect provider (in the cloud, Cognito's hosted UI): the
// authorization code flow with PKCE (RFC 7636), carried out by oauth4webapi. The code verifier
// and state are kept in sessionStorage for the round trip only; the code leaves the address bar
// as soon as it is read, and the tokens never enter it.

import * as oauth from 'oauth4webapi';

export interface OidcConfig {
  /** The provider's issuer: the `iss` of its ID tokens. */
  issuer: string;
  client_id: string;
  authorization_endpoint: string;
  token_endpoint: string;
  /** Where signing out ends the provider's own session (Cognito: `<domain>/logout`). */
  logout_endpoint?: string;
  scope?: string;
}

const PENDING = 'confer.oidc.pending';

interface Pending {
  verifier: string;
  state: string;
  then?: string;
}

function server(c: OidcConfig): oauth.AuthorizationServer {
  return { issuer: c.issuer, authorization_endpoint: c.authorization_endpoint, token_endpoint: c.token_endpoint };
}

/** The redirect URI: this client's origin, as registered with the provider. */
export function redirectUri(here: { origin: string }): string {
  return here.origin;
}

/** Where to send the browser to sign in; remembers what the return needs. */
export async function authorizationUrl(c: OidcConfig, here: { origin: string }, storage: Storage = sessionStorage, then?: string): Promise<string> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const pending: Pending = { verifier, state, then };
  storage.setItem(PENDING, JSON.stringify(pending));
  const url = new URL(c.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', c.client_id);
  url.searchParams.set('redirect_uri', redirectUri(here));
  url.searchParams.set('scope', c.scope ?? 'openid email profile');
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  return url.href;
}

/** True when the address is the provider's answer (a code or an error) to a sign-in. */
export function isCallback(url: URL): boolean {
  return url.searchParams.has('state') && (url.searchParams.has('code') || url.searchParams.has('error'));
}

/** The address without the provider's answer, to put back in the address bar. */
export function withoutCallback(url: URL): string {
  const clean = new URL(url.href);
  for (const k of ['code', 'state', 'error', 'error_description', 'iss', 'session_state']) clean.searchParams.delete(k);
  return `${clean.pathname}${clean.search}${clean.hash}`;
}

export class SignInError extends Error {}

/** Exchanges the code for tokens (checking state, PKCE and the ID token's claims). */
export async function completeSignIn(
  c: OidcConfig,
  url: URL,
  here: { origin: string },
  storage: Storage = sessionStorage,
): Promise<{ idToken: string; expiresAt: string; then?: string }> {
  const raw = storage.getItem(PENDING);
  storage.removeItem(PENDING);
  const pending = raw ? (JSON.parse(raw) as Pending) : null;
  if (!pending) throw new SignInError('This sign-in was not started in this tab. Please sign in again.');
  const as = server(c);
  const client: oauth.Client = { client_id: c.client_id };
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, client, url, pending.state);
  } catch (e) {
    if (e instanceof oauth.AuthorizationResponseError) {
      throw new SignInError(`The sign-in was refused: ${e.error_description ?? e.error}.`);
    }
    throw new SignInError('The sign-in answer did not match this tab’s request. Please sign in again.');
  }
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri(here), pending.verifier);
  let result: oauth.TokenEndpointResponse;
  try {
    result = await oauth.processAuthorizationCodeResponse(as, client, response, { requireIdToken: true });
  } catch (e) {
    const detail = e instanceof oauth.ResponseBodyError ? (e.error_description ?? e.error) : e instanceof Error ? e.message : String(e);
    throw new SignInError(`The sign-in could not be completed: ${detail}.`);
  }
  const claims = oauth.getValidatedIdTokenClaims(result);
  const exp = typeof claims?.exp === 'number' ? claims.exp * 1000 : Date.now() + (result.expires_in ?? 3600) * 1000;
  return { idToken: result.id_token as string, expiresAt: new Date(exp).toISOString(), then: pending.then };
}

/** Where signing out sends the browser to end the provider's session too (if it has one). */
export function logoutUrl(c: OidcConfig, here: { origin: string }): string | null {
  if (!c.logout_endpoint) return null;
  const url = new URL(c.logout_endpoint);
  url.searchParams.set('client_id', c.client_id);
  url.searchParams.set('logout_uri', redirectUri(here));
  return url.href;
}
