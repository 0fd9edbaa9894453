// The application: who is signed in, the routes (in the URL's fragment, so that an invitation
// link `/#/join/<secret>` opens the client wherever it is served), and the page shells.

import { Api, ApiError, describeError } from './api';
import { clearIdentity, identify, isStaff, loadIdentity, saveIdentity, type Identity } from './auth';
import { h, replaceChildren, Scope } from './dom';
import type { ClientConfig } from './config';
import { completeSignIn, isCallback, logoutUrl, withoutCallback } from './oidc';
import { Live } from './live';
import type { SocketState } from './socket';

export interface View {
  title: string;
  el: HTMLElement;
  dispose?: () => void;
}

export type Params = Record<string, string>;

export interface Ctx {
  api: Api;
  readonly config: ClientConfig;
  identity: Identity | null;
  live: Live | null;
  navigate(hash: string, options?: { replace?: boolean }): void;
  notify(message: string, kind?: 'error' | 'info'): void;
  /** Reports an error in words: the API's message, never swallowed. */
  fail(e: unknown): void;
  signIn(identity: Identity, then?: string): void;
  signOut(reason?: string): void;
  /** Sets the page's title (the part before " – Confer"). */
  setTitle(title: string): void;
}

type Factory = (ctx: Ctx, params: Params) => View;
type Access = 'public' | 'staff' | 'customer' | 'any';

interface Route {
  pattern: RegExp;
  names: string[];
  access: Access;
  factory: Factory;
}

const routes: Route[] = [];

/** Registers a route: `/customers/:id` style patterns, matched against the fragment. */
export function route(path: string, access: Access, factory: Factory): void {
  const names: string[] = [];
  const pattern = new RegExp(
    '^' +
      path.replace(/:([a-zA-Z]+)/g, (_, n: string) => {
        names.push(n);
        return '([^/]+)';
      }) +
      '/?$',
  );
  routes.push({ pattern, names, access, factory });
}

/** The page's path: the fragment without its query (`#/sessions/ses_1?seq=4` is `/sessions/ses_1`). */
export function currentPath(): string {
  const hash = location.hash.replace(/^#/, '').split('?')[0];
  return hash.startsWith('/') ? hash : `/${hash}`;
}

/** The fragment's query: what a page is asked to show in it (a message, a moment of a recording). */
export function hashQuery(): URLSearchParams {
  const at = location.hash.indexOf('?');
  return new URLSearchParams(at >= 0 ? location.hash.slice(at + 1) : '');
}

export class App implements Ctx {
  identity: Identity | null = loadIdentity();
  live: Live | null = null;
  readonly api: Api;
  private view: View | null = null;
  private shellKind: 'public' | 'staff' | 'customer' | null = null;
  private shellScope = new Scope();
  private main!: HTMLElement;
  private notices!: HTMLElement;
  private flash: string | null = null;
  private title = 'Confer';

  constructor(
    private readonly root: HTMLElement,
    readonly config: ClientConfig,
  ) {
    this.api = new Api({
      base: config.api,
      token: () => this.identity?.token ?? null,
      onUnauthorized: () => {
        if (!this.identity) return;
        const customer = this.identity.role === 'customer';
        this.signOut(
          customer
            ? 'Your chat link has expired. Ask for a new link to continue the conversation.'
            : 'Your sign-in has expired. Please sign in again.',
        );
      },
    });
  }

  start(): void {
    window.addEventListener('hashchange', () => this.render());
    const here = new URL(location.href);
    if (this.config.oidc && isCallback(here)) {
      // The provider's answer: the code leaves the address bar before anything else happens.
      history.replaceState(null, '', withoutCallback(here));
      void this.completeProviderSignIn(here);
    }
    if (this.identity) this.startLive();
    this.render();
  }

  private async completeProviderSignIn(answer: URL): Promise<void> {
    const oidc = this.config.oidc;
    if (!oidc) return;
    this.root.setAttribute('aria-busy', 'true');
    try {
      const done = await completeSignIn(oidc, answer, location);
      const identity = await identify(this.api, done.idToken, done.expiresAt);
      if (!isStaff(identity.role)) {
        this.notify('This account is not an agent’s account of any workspace. Ask your administrator.');
        return;
      }
      this.signIn(identity, done.then);
    } catch (e) {
      this.notify(describeError(e));
    } finally {
      this.root.removeAttribute('aria-busy');
    }
  }
  private startLive(): void {
    if (!this.identity) return;
    this.live?.stop();
    this.live = new Live(this.api, this.identity, this.config.ws);
    this.live.on((e) => {
      if (e.type === 'error') this.notify(e.message);
      if (e.type === 'sessions') this.updateTitle();
    });
    this.live.start();
  }

  navigate(hash: string, options: { replace?: boolean } = {}): void {
    const target = hash.startsWith('#') ? hash : `#${hash}`;
    if (options.replace) {
      history.replaceState(null, '', `${location.pathname}${location.search}${target}`);
      this.render();
    } else if (location.hash === target) {
      this.render();
    } else {
      location.hash = target;
    }
  }

  notify(message: string, kind: 'error' | 'info' = 'error'): void {
    if (!this.notices) return;
    const item = h(
      'div',
      { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status', dataset: { at: String(Date.now()) } },
      h('p', null, message),
      h('button', { type: 'button', class: 'link', onclick: () => item.remove() }, 'Dismiss'),
    );
    this.notices.appendChild(item);
    // Information goes by itself; errors stay until dismissed or the page changes.
    if (kind === 'info') setTimeout(() => item.remove(), 6000);
  }

  fail(e: unknown): void {
    if (e instanceof ApiError && e.status === 401 && !this.identity) return;
    this.notify(describeError(e));
  }

  signIn(identity: Identity, then?: string): void {
    saveIdentity(identity);
    this.identity = identity;
    this.startLive();
    this.navigate(then ?? (identity.role === 'customer' ? '/chat' : '/'), { replace: true });
  }

  signOut(reason?: string): void {
    const wasCustomer = this.identity?.role === 'customer';
    clearIdentity();
    this.identity = null;
    this.live?.stop();
    this.live = null;
    // An agent who signs out also ends the provider's session, so the next person at this
    // browser signs in as themselves.
    const providerLogout = !wasCustomer && !reason && this.config.oidc ? logoutUrl(this.config.oidc, location) : null;
    if (providerLogout) {
      location.assign(providerLogout);
      return;
    }
    this.flash = reason ?? null;
    this.navigate(wasCustomer ? (reason ? '/link-expired' : '/left') : '/sign-in', { replace: true });
  }

  setTitle(title: string): void {
    this.title = title;
    this.updateTitle();
  }

  private updateTitle(): void {
    const unread = this.live && this.identity && isStaff(this.identity.role) ? this.live.unreadTotal() : 0;
    document.title = `${unread > 0 ? `(${unread}) ` : ''}${this.title} – Confer`;
  }

  takeFlash(): string | null {
    const f = this.flash;
    this.flash = null;
    return f;
  }

  render(): void {
    const path = currentPath();
    let matched: { route: Route; params: Params } | null = null;
    for (const r of routes) {
      const m = r.pattern.exec(path);
      if (m) {
        const params: Params = {};
        r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
        matched = { route: r, params };
        break;
      }
    }
    const role = this.identity?.role;
    if (matched) {
      const access = matched.route.access;
      if (access === 'staff' && !isStaff(role)) return this.redirectHome();
      if (access === 'customer' && role !== 'customer') return this.redirectHome();
      if (access === 'any' && !role) return this.redirectHome();
    }
    const kind = !this.identity || matched?.route.access === 'public' ? 'public' : isStaff(role) ? 'staff' : 'customer';
    this.ensureShell(kind);
    this.view?.dispose?.();
    this.view = null;
    const view = matched ? matched.route.factory(this, matched.params) : notFoundView();
    this.view = view;
    replaceChildren(this.main, view.el);
    // A conversation fills the page and scrolls inside; other pages scroll as a whole.
    this.main.classList.toggle('fill', view.el.classList.contains('fills'));
    // Notices of the page left behind go; one given just before moving here (an action's outcome) stays.
    for (const n of [...this.notices.children] as HTMLElement[]) {
      if (Date.now() - Number(n.dataset.at ?? 0) > 1500) n.remove();
    }
    const flash = this.takeFlash();
    if (flash) this.notify(flash, 'info');
    this.setTitle(view.title);
    // Focus moves to the new page's heading, so keyboard and screen reader users start there.
    const heading = view.el.querySelector<HTMLElement>('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
    this.root.dispatchEvent(new CustomEvent('confer:route', { detail: { path, kind } }));
  }

  private redirectHome(): void {
    if (!this.identity) this.navigate('/sign-in', { replace: true });
    else this.navigate(this.identity.role === 'customer' ? '/chat' : '/', { replace: true });
  }

  private ensureShell(kind: 'public' | 'staff' | 'customer'): void {
    if (this.shellKind === kind) return;
    this.shellScope.dispose();
    this.shellScope = new Scope();
    this.shellKind = kind;
    this.main = h('main', { id: 'main', class: 'main' });
    this.notices = h('div', { class: 'notices', 'aria-live': 'polite' });
    const skip = h('a', { class: 'skip-link', href: '#main', onclick: (e: Event) => {
      e.preventDefault();
      (this.main.querySelector('h1') as HTMLElement | null)?.focus();
    } }, 'Skip to content');
    const header = this.header(kind);
    const body: HTMLElement[] = [];
    if (kind === 'staff' && shellParts.sidebar) {
      const sidebar = shellParts.sidebar(this, this.shellScope);
      body.push(h('div', { class: 'layout' }, sidebar, h('div', { class: 'content' }, this.notices, this.main)));
    } else {
      body.push(h('div', { class: `layout layout-${kind}` }, h('div', { class: 'content' }, this.notices, this.main)));
    }
    replaceChildren(this.root, skip, header, ...body);
  }

  private header(kind: 'public' | 'staff' | 'customer'): HTMLElement {
    const brand = h('a', { class: 'brand', href: '#/' }, 'Confer');
    if (kind === 'public') return h('header', { class: 'topbar' }, brand);
    const identity = this.identity!;
    const status = connectionStatus(this, this.shellScope);
    const signOut = h(
      'button',
      {
        type: 'button',
        class: 'button secondary small',
        onclick: () => {
          if (kind === 'customer' && !confirm('Leave the chat? To come back you will need a new link from the business.')) return;
          this.signOut();
        },
      },
      kind === 'customer' ? 'Leave' : 'Sign out',
    );
    if (kind === 'customer') {
      return h(
        'header',
        { class: 'topbar' },
        h('span', { class: 'brand' }, 'Confer'),
        h('span', { class: 'topbar-note' }, `Chat with ${identity.tenant}`),
        shellParts.search?.(this, this.shellScope, 'customer'),
        status,
        signOut,
      );
    }
    const nav = h(
      'nav',
      { class: 'topnav', 'aria-label': 'Main' },
      h('a', { href: '#/' }, 'Open sessions'),
      h('a', { href: '#/customers' }, 'Customers'),
      h('a', { href: '#/groups' }, 'Groups'),
      h('a', { href: '#/announcements' }, 'Announcements'),
      identity.role === 'admin' ? h('a', { href: '#/agents' }, 'Agents') : null,
    );
    const markCurrent = () => {
      const path = currentPath();
      for (const a of nav.querySelectorAll('a')) {
        const target = a.getAttribute('href')!.slice(1);
        const current = target === '/' ? path === '/' || path.startsWith('/sessions') : path.startsWith(target);
        if (current) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
    };
    this.shellScope.listen(window, 'hashchange', markCurrent);
    markCurrent();
    return h(
      'header',
      { class: 'topbar' },
      brand,
      nav,
      shellParts.search?.(this, this.shellScope, 'agent'),
      status,
      h('span', { class: 'who' }, h('span', { class: 'sr-only' }, 'Signed in as '), `${identity.id} · ${identity.tenant}`),
      signOut,
    );
  }
}

/** Parts of the staff shell registered by their modules (keeps this file free of page code). */
export const shellParts: {
  sidebar?: (ctx: Ctx, scope: Scope) => HTMLElement;
  /** The search box of the top bar. */
  search?: (ctx: Ctx, scope: Scope, reader: 'agent' | 'customer') => HTMLElement;
} = {};

function connectionStatus(ctx: App, scope: Scope): HTMLElement {
  const text = h('span', { class: 'conn-text' });
  const dot = h('span', { class: 'conn-dot', 'aria-hidden': 'true' });
  const retry = h('button', { type: 'button', class: 'link small', hidden: true, onclick: () => ctx.live?.socket.retryNow() }, 'Retry now');
  const el = h('div', { class: 'conn' }, h('span', { role: 'status', class: 'conn-status' }, dot, text), retry);
  let state: SocketState = ctx.live?.socket.state ?? { kind: 'stopped' };
  const paint = () => {
    el.dataset.state = state.kind;
    retry.hidden = state.kind !== 'waiting';
    switch (state.kind) {
      case 'open':
        text.textContent = 'Connected';
        break;
      case 'connecting':
        text.textContent = state.attempt === 0 ? 'Connecting…' : 'Reconnecting…';
        break;
      case 'waiting': {
        const s = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
        text.textContent = s > 0 ? `Connection lost. Reconnecting in ${s} s…` : 'Reconnecting…';
        break;
      }
      case 'stopped':
        text.textContent = 'Offline';
    }
  };
  const off = ctx.live?.on((e) => {
    if (e.type === 'state') {
      state = e.state;
      paint();
    }
  });
  if (off) scope.add(off);
  scope.interval(() => state.kind === 'waiting' && paint(), 1000);
  scope.listen(window, 'online', () => ctx.live?.socket.retryNow());
  paint();
  return el;
}

function notFoundView(): View {
  return {
    title: 'Not found',
    el: h(
      'section',
      { class: 'page narrow' },
      h('h1', null, 'Page not found'),
      h('p', null, 'There is nothing at this address.'),
      h('p', null, h('a', { href: '#/' }, 'Go to the start page')),
    ),
  };
}

export { isStaff };
