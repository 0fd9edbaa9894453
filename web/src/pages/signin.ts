// Signing in: through the deployment's identity provider (Cognito's hosted UI, code + PKCE),
// with an agent's password (confer-local's agents), or with a token pasted as it is.

import { ApiError, describeError } from '../api';
import { route, type Ctx } from '../app';
import { identify } from '../auth';
import { field, h } from '../dom';
import { authorizationUrl } from '../oidc';

route('/sign-in', 'public', (ctx: Ctx) => {
  if (ctx.identity) {
    queueMicrotask(() => ctx.navigate(ctx.identity?.role === 'customer' ? '/chat' : '/', { replace: true }));
  }
  const tenant = h('input', { name: 'tenant', autocomplete: 'organization', required: true, spellcheck: false });
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, spellcheck: false });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'sign-in-heading',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        submit.disabled = true;
        try {
          const issued = await ctx.api.signIn(tenant.value.trim(), username.value.trim(), password.value);
          ctx.signIn({ token: issued.token, tenant: issued.tenant, role: issued.role, id: issued.id, expires_at: issued.expires_at });
        } catch (err) {
          error.textContent =
            err instanceof ApiError && err.code === 'route_not_found'
              ? 'Password sign-in is not available on this server. Paste a token instead.'
              : err instanceof ApiError && err.status === 401
                ? 'The workspace, username or password is not right.'
                : describeError(err);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h2', { id: 'sign-in-heading' }, 'With your password'),
    field('Workspace', tenant, 'Your business’s workspace name, for example acme.'),
    field('Username', username),
    field('Password', password),
    error,
    h('div', { class: 'actions' }, submit),
  );

  const tokenInput = h('textarea', { name: 'token', rows: 3, spellcheck: false, autocomplete: 'off', required: true });
  const tokenError = h('p', { class: 'form-error', role: 'alert' });
  const useToken = h('button', { type: 'submit', class: 'button secondary' }, 'Use this token');
  const tokenForm = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'token-heading',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        tokenError.textContent = '';
        const token = tokenInput.value.trim().replace(/^Bearer\s+/i, '');
        if (!token) {
          tokenError.textContent = 'Paste a token first.';
          return;
        }
        useToken.disabled = true;
        try {
          ctx.signIn(await identify(ctx.api, token));
        } catch (err) {
          tokenError.textContent = describeError(err);
        } finally {
          useToken.disabled = false;
        }
      },
    },
    h('h2', { id: 'token-heading' }, 'With a token'),
    field('Token', tokenInput, 'A token from your identity provider, or from `confer-local token`.'),
    tokenError,
    h('div', { class: 'actions' }, useToken),
  );

  const oidc = ctx.config.oidc;
  let provider: HTMLElement | null = null;
  if (oidc) {
    const go = h('button', { type: 'button', class: 'button primary' }, 'Sign in with your work account');
    const goError = h('p', { class: 'form-error', role: 'alert' });
    go.addEventListener('click', async () => {
      go.disabled = true;
      try {
        location.assign(await authorizationUrl(oidc, location));
      } catch (err) {
        goError.textContent = describeError(err);
        go.disabled = false;
      }
    });
    provider = h(
      'section',
      { class: 'card', 'aria-labelledby': 'provider-heading' },
      h('h2', { id: 'provider-heading' }, 'With your work account'),
      h('p', null, 'You will sign in on your organisation’s sign-in page and come straight back.'),
      goError,
      h('div', { class: 'actions' }, go),
    );
  }

  return {
    title: 'Sign in',
    el: h(
      'section',
      { class: 'page narrow sign-in' },
      h('h1', null, 'Sign in to Confer'),
      h('p', { class: 'lead' }, 'The console for your team’s conversations with customers.'),
      ...(provider ? [provider] : [form]),
      tokenForm,
    ),
  };
});
