// The agent console: the open sessions beside every page, the inbox, a session's chat.

import { route, shellParts, currentPath, hashQuery, type Ctx } from '../app';
import { chatView } from '../chat/chatView';
import { h, replaceChildren, Scope, srOnly } from '../dom';
import { formatDateTime, unreadLabel } from '../format';
import { icon } from '../icons';
import { wholeNumber } from '../search/model';

shellParts.sidebar = (ctx: Ctx, scope: Scope) => {
  const status = h('p', { class: 'muted sidebar-status', role: 'status' });
  const list = h('ul', { class: 'session-list' });
  const el = h(
    'aside',
    { class: 'sidebar', 'aria-labelledby': 'open-sessions-heading' },
    h('h2', { id: 'open-sessions-heading' }, 'Open sessions'),
    status,
    list,
  );
  const paint = () => {
    const live = ctx.live;
    if (!live) return;
    const current = currentPath();
    if (!live.sessionsLoaded) {
      status.textContent = live.sessionsError ? `The sessions could not be loaded: ${live.sessionsError}` : 'Loading…';
    } else if (live.sessions.length === 0) {
      status.textContent = 'No open sessions. Open one from a customer’s page.';
    } else {
      status.textContent = '';
    }
    replaceChildren(
      list,
      live.sessions.map((s) => {
        const href = `#/sessions/${s.id}`;
        const unread = s.unread > 0;
        return h(
          'li',
          { dataset: { session: s.id } },
          h(
            'a',
            { href, class: `session-link${unread ? ' has-unread' : ''}`, 'aria-current': current === href.slice(1) ? 'page' : null },
            h('span', { class: 'session-name' }, s.customer_name || 'Customer'),
            h('span', { class: 'session-sub' }, s.subject || `Opened ${formatDateTime(s.created_at)}`),
            unread
              ? h('span', { class: 'badge', dataset: { unread: String(s.unread) } }, h('span', { 'aria-hidden': 'true' }, String(s.unread)), srOnly(unreadLabel(s.unread)))
              : null,
            // A call waiting for the agent in a session they are not looking at.
            live.calls.ringing(s.id) ? h('span', { class: 'call-badge' }, icon('video', 16), h('span', { 'aria-hidden': 'true' }, 'Call'), srOnly('Video call waiting')) : null,
          ),
        );
      }),
    );
  };
  const off = ctx.live?.on((e) => {
    if (e.type === 'sessions') paint();
  });
  if (off) scope.add(off);
  // Painted again only when which sessions have a call waiting changes (not on every change of a call).
  let ringing = '';
  const offCalls = ctx.live?.calls.on(() => {
    const live = ctx.live;
    const now = live ? live.sessions.filter((x) => live.calls.ringing(x.id)).map((x) => x.id).join() : '';
    if (now !== ringing) {
      ringing = now;
      paint();
    }
  });
  if (offCalls) scope.add(offCalls);
  scope.listen(window, 'hashchange', paint);
  paint();
  return el;
};

route('/', 'staff', () => ({
  title: 'Open sessions',
  el: h(
    'section',
    { class: 'page inbox' },
    h('h1', null, 'Open sessions'),
    h(
      'p',
      { class: 'lead' },
      'Choose a session from the list to chat. New messages and sessions appear there as they happen, with unread counts.',
    ),
    h('p', null, 'To start a conversation, find the customer on the ', h('a', { href: '#/customers' }, 'Customers'), ' page and open a new session there.'),
  ),
}));

route('/sessions/:id', 'staff', (ctx: Ctx, { id }) => chatView(ctx, id, { mode: 'agent', focusSeq: wholeNumber(hashQuery().get('seq')) }));
