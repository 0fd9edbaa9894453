// The customer's chat: their current conversation, and every earlier one to open and read; the
// business's announcements in an inbox beside it.

import { hashQuery, route, type Ctx, type View } from '../app';
import { chatView } from '../chat/chatView';
import { h, replaceChildren, Scope, srOnly } from '../dom';
import { formatDateTime, unreadLabel } from '../format';
import { customerRecordings } from '../recording/list';
import { inboxPanel } from '../announcements/inbox';
import { wholeNumber } from '../search/model';

/** A page of the customer's with their inbox beside it (above it on a narrow screen). */
function withInbox(ctx: Ctx, view: View): View {
  const scope = new Scope();
  view.el.classList.remove('fills');
  view.el.classList.add('customer-main');
  // An announcement found by a search opens in the inbox.
  const el = h('div', { class: 'customer-home fills' }, view.el, inboxPanel(ctx, scope, { open: hashQuery().get('announcement') }));
  return {
    ...view,
    el,
    dispose: () => {
      scope.dispose();
      view.dispose?.();
    },
  };
}

function conversationsNav(ctx: Ctx, scope: Scope, currentId: string | null): HTMLElement {
  const list = h('ul', { class: 'conversation-list' });
  const summary = h('summary', null, 'All your conversations');
  const details = h('details', null, summary, list);
  const nav = h('nav', { class: 'conversations', 'aria-label': 'Your conversations' }, details);
  const paint = () => {
    const live = ctx.live;
    if (!live) return;
    summary.textContent = `All your conversations (${live.sessions.length})`;
    replaceChildren(
      list,
      live.sessions.map((s) =>
        h(
          'li',
          null,
          h(
            'a',
            { href: `#/chat/${s.id}`, 'aria-current': s.id === currentId ? 'page' : null },
            h('span', null, s.subject || `Conversation of ${formatDateTime(s.created_at)}`),
            h('span', { class: `status status-${s.status}` }, s.status === 'open' ? 'Open' : 'Closed'),
            s.unread > 0 && s.id !== currentId ? h('span', { class: 'badge' }, h('span', { 'aria-hidden': 'true' }, String(s.unread)), srOnly(unreadLabel(s.unread))) : null,
          ),
        ),
      ),
    );
  };
  const off = ctx.live?.on((e) => e.type === 'sessions' && paint());
  if (off) scope.add(off);
  paint();
  return nav;
}

function withNav(ctx: Ctx, sessionId: string, focusSeq: number | null = null): View {
  const scope = new Scope();
  const aside = h('div', { class: 'chat-aside' }, conversationsNav(ctx, scope, sessionId), customerRecordings(ctx, sessionId, scope));
  const view = chatView(ctx, sessionId, { mode: 'customer', aside, focusSeq });
  return {
    ...view,
    dispose: () => {
      scope.dispose();
      view.dispose?.();
    },
  };
}

route('/chat', 'customer', (ctx: Ctx) => {
  const live = ctx.live!;
  const scope = new Scope();
  const holder = h('div', { class: 'chat-holder fills' });
  let inner: View | null = null;
  let innerScope = new Scope();
  // The session shown: null before the list is read, '' for none.
  let shown: string | null = null;
  const show = () => {
    if (!live.sessionsLoaded) {
      replaceChildren(
        holder,
        h(
          'section',
          { class: 'page narrow' },
          h('h1', null, 'Your conversation'),
          live.sessionsError ? h('p', { class: 'form-error', role: 'alert' }, live.sessionsError) : h('p', { role: 'status' }, 'Loading…'),
        ),
      );
      return;
    }
    // The newest open conversation; when none is open, an invitation to wait.
    const current = live.sessions.find((s) => s.status === 'open')?.id ?? '';
    if (current === shown) return;
    // The conversation shown was closed: it stays, with its history, until another one opens.
    if (current === '' && shown && live.sessionItem(shown)) return;
    shown = current;
    inner?.dispose?.();
    innerScope.dispose();
    innerScope = new Scope();
    inner = null;
    if (current) {
      inner = withNav(ctx, current);
      replaceChildren(holder, inner.el);
    } else {
      replaceChildren(
        holder,
        h(
          'section',
          { class: 'page narrow' },
          h('h1', null, 'Your conversation'),
          h('p', { class: 'lead' }, `No conversation with ${ctx.identity?.tenant ?? 'the business'} is open right now. It appears here as soon as they start one.`),
          live.sessions.length > 0 ? conversationsNav(ctx, innerScope, null) : null,
        ),
      );
    }
  };
  scope.add(live.on((e) => (e.type === 'sessions' || e.type === 'session') && show()));
  show();
  return withInbox(ctx, {
    title: 'Your conversation',
    el: holder,
    dispose: () => {
      inner?.dispose?.();
      innerScope.dispose();
      scope.dispose();
    },
  });
});

route('/chat/:id', 'customer', (ctx: Ctx, { id }) => withInbox(ctx, withNav(ctx, id, wholeNumber(hashQuery().get('seq')))));
