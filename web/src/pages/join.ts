// An invitation link: `#/join/<secret>` is exchanged for a customer token once, and the secret
// leaves the address bar (and the history) at once.

import { ApiError, describeError } from '../api';
import { route, type Ctx } from '../app';
import { h } from '../dom';

function refusedPage(detail?: string): HTMLElement {
  return h(
    'section',
    { class: 'page narrow notice-page' },
    h('h1', null, 'This invitation link can’t be used'),
    h('p', { class: 'lead' }, 'It has already been used, or it has expired. Each invitation link works once, for a limited time.'),
    h('p', null, 'Ask the business that sent it to you for a new link.'),
    detail ? h('p', { class: 'muted' }, `The server said: ${detail}`) : null,
  );
}

route('/join/:secret', 'public', (ctx: Ctx, { secret }) => {
  // The secret is spent by the exchange: keep it out of the address bar and the history from now on.
  history.replaceState(null, '', `${location.pathname}${location.search}#/joining`);
  const status = h('p', { role: 'status' }, 'Opening your conversation…');
  const el = h('section', { class: 'page narrow' }, h('h1', null, 'Welcome'), status);
  void (async () => {
    try {
      const issued = await ctx.api.exchangeInvitation(secret);
      ctx.signIn({ token: issued.token, tenant: issued.tenant, role: issued.role, id: issued.id, expires_at: issued.expires_at }, '/chat');
    } catch (e) {
      if (e instanceof ApiError && ([400, 404, 410].includes(e.status) || e.code === 'invitation_invalid')) {
        history.replaceState(null, '', `${location.pathname}${location.search}#/invitation-invalid`);
        el.replaceWith(refusedPage(describeError(e)));
        ctx.setTitle('Invitation link can’t be used');
        document.querySelector<HTMLElement>('main h1')?.focus();
      } else {
        status.textContent = describeError(e);
        el.appendChild(h('p', null, h('button', { type: 'button', class: 'button', onclick: () => location.reload() }, 'Try again')));
      }
    }
  })();
  return { title: 'Opening your conversation', el };
});

route('/joining', 'public', (ctx: Ctx) => {
  // A reload after the exchange started: the secret is gone from the address, so go on from what this tab holds.
  queueMicrotask(() => ctx.navigate(ctx.identity ? '/chat' : '/invitation-invalid', { replace: true }));
  return { title: 'Opening your conversation', el: h('section', { class: 'page narrow' }, h('h1', null, 'Welcome')) };
});

route('/invitation-invalid', 'public', () => ({ title: 'Invitation link can’t be used', el: refusedPage() }));

route('/left', 'public', () => ({
  title: 'You left the chat',
  el: h(
    'section',
    { class: 'page narrow notice-page' },
    h('h1', null, 'You left the chat'),
    h('p', { class: 'lead' }, 'Nothing of the conversation is kept in this browser.'),
    h('p', null, 'To continue it, ask the business for a new link.'),
  ),
}));

route('/link-expired', 'public', () => ({
  title: 'Your chat link has expired',
  el: h(
    'section',
    { class: 'page narrow notice-page' },
    h('h1', null, 'Your chat link has expired'),
    h('p', { class: 'lead' }, 'For your security, a chat opened from a link stays open for a limited time.'),
    h('p', null, 'Ask the business for a new link to continue the conversation.'),
  ),
}));
