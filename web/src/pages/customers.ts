// Customers: the list with search by name or email, creating and editing one, and a customer's
// page with their sessions, their files, a new session and an invitation link.

import { describeError } from '../api';
import { route, type Ctx } from '../app';
import { field, h, replaceChildren, Scope } from '../dom';
import { durationInWords, formatBytes, formatDate, formatDateTime } from '../format';
import { safeUrl } from '../chat/message';
import type { Customer, CustomerFile, SessionSummary } from '../types';
import { recordingsCard } from '../recording/list';

/** The groups a customer is in, each a link to its page. */
function groupsCard(ctx: Ctx, customerId: string): HTMLElement {
  const list = h('ul', { class: 'plain-list' });
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  void ctx.api
    .customerGroups(customerId, { limit: 100 })
    .then((page) => {
      replaceChildren(list, page.items.map((g) => h('li', null, h('a', { href: `#/groups/${g.group_id}` }, g.name))));
      status.textContent = page.items.length === 0 ? 'In no group.' : '';
    })
    .catch((e) => (status.textContent = describeError(e)));
  return h('section', { class: 'card', 'aria-labelledby': 'groups-h' }, h('h2', { id: 'groups-h' }, 'Groups'), status, list);
}

route('/customers', 'staff', (ctx: Ctx) => {
  const scope = new Scope();
  const search = h('input', { type: 'search', name: 'q', autocomplete: 'off', spellcheck: false, placeholder: 'Name or email' });
  const status = h('p', { role: 'status', class: 'muted' });
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'button secondary', hidden: true }, 'Show more');
  let cursor: string | null = null;
  let generation = 0;

  const row = (c: Customer) =>
    h(
      'tr',
      null,
      h('td', null, h('a', { href: `#/customers/${c.id}` }, c.name)),
      h('td', null, c.email ?? ''),
      h('td', null, c.phone ?? ''),
    );

  async function load(reset: boolean): Promise<void> {
    const mine = ++generation;
    const q = search.value.trim();
    if (reset) cursor = null;
    status.textContent = 'Loading…';
    try {
      const page = await ctx.api.customers({ q: q || undefined, limit: 50, cursor: reset ? undefined : cursor });
      if (mine !== generation) return;
      if (reset) tbody.replaceChildren();
      for (const c of page.items) tbody.appendChild(row(c));
      cursor = page.next_cursor ?? null;
      more.hidden = !cursor;
      const shown = tbody.children.length;
      status.textContent =
        shown === 0 ? (q ? `No customer’s name or email contains “${q}”.` : 'No customers yet.') : q ? `${shown}${cursor ? '+' : ''} found for “${q}”.` : '';
    } catch (e) {
      if (mine !== generation) return;
      status.textContent = '';
      ctx.fail(e);
    }
  }

  let debounce: ReturnType<typeof setTimeout> | null = null;
  search.addEventListener('input', () => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => void load(true), 250);
  });
  scope.add(() => debounce && clearTimeout(debounce));
  more.addEventListener('click', () => void load(false));
  const form = h(
    'form',
    {
      role: 'search',
      class: 'search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void load(true);
      },
    },
    field('Search customers', search),
    h('button', { type: 'submit', class: 'button secondary' }, 'Search'),
  );
  void load(true);
  return {
    title: 'Customers',
    el: h(
      'section',
      { class: 'page' },
      h('div', { class: 'page-head' }, h('h1', null, 'Customers'), h('a', { class: 'button primary', href: '#/customers/new' }, 'New customer')),
      form,
      status,
      h(
        'table',
        { class: 'table' },
        h('caption', { class: 'sr-only' }, 'Customers'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Phone'))),
        tbody,
      ),
      more,
    ),
    dispose: () => scope.dispose(),
  };
});

function customerForm(ctx: Ctx, existing: Customer | null, el: HTMLElement): void {
  const name = h('input', { name: 'name', required: true, maxLength: 200, autocomplete: 'off', value: existing?.name ?? '' });
  const email = h('input', { name: 'email', type: 'email', maxLength: 254, autocomplete: 'off', value: existing?.email ?? '' });
  const phone = h('input', { name: 'phone', type: 'tel', maxLength: 32, autocomplete: 'off', value: existing?.phone ?? '' });
  const ref = h('input', { name: 'external_ref', maxLength: 128, autocomplete: 'off', value: existing?.external_ref ?? '' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'button primary' }, existing ? 'Save changes' : 'Create customer');
  const form = h(
    'form',
    {
      class: 'card form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        const values = { name: name.value.trim(), email: email.value.trim(), phone: phone.value.trim(), external_ref: ref.value.trim() };
        save.disabled = true;
        try {
          let saved: Customer;
          if (existing) {
            // Only what changed; an emptied optional field is cleared (null).
            const patch: Record<string, string | null> = {};
            if (values.name !== existing.name) patch.name = values.name;
            for (const k of ['email', 'phone', 'external_ref'] as const) {
              const before = existing[k] ?? '';
              if (values[k] !== before) patch[k] = values[k] === '' ? null : values[k];
            }
            saved = Object.keys(patch).length ? await ctx.api.updateCustomer(existing.id, patch as Partial<Customer>) : existing;
          } else {
            const body: Record<string, string> = { name: values.name };
            for (const k of ['email', 'phone', 'external_ref'] as const) if (values[k]) body[k] = values[k];
            saved = await ctx.api.createCustomer(body as Partial<Customer>);
          }
          ctx.notify(existing ? 'Changes saved.' : `${saved.name} was added.`, 'info');
          ctx.navigate(`/customers/${saved.id}`);
        } catch (err) {
          error.textContent = describeError(err);
        } finally {
          save.disabled = false;
        }
      },
    },
    field('Name', name),
    field('Email', email),
    field('Phone', phone),
    field('Reference', ref, 'Your own reference: a CRM id or an account number.'),
    error,
    h(
      'div',
      { class: 'actions' },
      save,
      h('a', { class: 'button secondary', href: existing ? `#/customers/${existing.id}` : '#/customers' }, 'Cancel'),
    ),
  );
  el.appendChild(form);
}

route('/customers/new', 'staff', (ctx: Ctx) => {
  const el = h('section', { class: 'page narrow' }, h('h1', null, 'New customer'));
  customerForm(ctx, null, el);
  return { title: 'New customer', el };
});

route('/customers/:id/edit', 'staff', (ctx: Ctx, { id }) => {
  const heading = h('h1', null, 'Edit customer');
  const el = h('section', { class: 'page narrow' }, heading, h('p', { role: 'status', class: 'muted' }, 'Loading…'));
  ctx.api
    .customer(id)
    .then((c) => {
      heading.textContent = `Edit ${c.name}`;
      el.querySelector('[role=status]')?.remove();
      customerForm(ctx, c, el);
    })
    .catch((e) => replaceChildren(el, heading, h('p', { class: 'form-error', role: 'alert' }, describeError(e))));
  return { title: 'Edit customer', el };
});

route('/customers/:id', 'staff', (ctx: Ctx, { id }) => {
  const scope = new Scope();
  const heading = h('h1', null, 'Customer');
  const details = h('dl', { class: 'details' });
  const status = h('p', { role: 'status', class: 'muted' }, 'Loading…');
  const el = h('section', { class: 'page customer-page' }, h('div', { class: 'page-head' }, heading, h('a', { class: 'button secondary', href: `#/customers/${id}/edit` }, 'Edit')), status, details);

  // A new session.
  const subject = h('input', { name: 'subject', maxLength: 300, autocomplete: 'off' });
  const openError = h('p', { class: 'form-error', role: 'alert' });
  const openButton = h('button', { type: 'submit', class: 'button primary' }, 'Open a new session');
  const openForm = h(
    'form',
    {
      class: 'inline-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        openError.textContent = '';
        openButton.disabled = true;
        try {
          const s = await ctx.api.openSession(id, subject.value.trim() || undefined);
          ctx.navigate(`/sessions/${s.id}`);
        } catch (err) {
          openError.textContent = describeError(err);
        } finally {
          openButton.disabled = false;
        }
      },
    },
    field('Subject (optional)', subject),
    openButton,
  );

  // An invitation link.
  const inviteButton = h('button', { type: 'button', class: 'button secondary' }, 'Create an invitation link');
  const inviteOut = h('div', { class: 'invite-out' });
  inviteButton.addEventListener('click', async () => {
    inviteButton.disabled = true;
    try {
      const inv = await ctx.api.invite(id);
      const url = inv.invitation_url ?? new URL(inv.join_path ?? `/#/join/${inv.secret ?? ''}`, location.origin).toString();
      const input = h('input', { readOnly: true, value: url, class: 'invite-url', id: 'invite-url', spellcheck: false });
      const copied = h('span', { role: 'status', class: 'muted' });
      const copy = h('button', { type: 'button', class: 'button primary small' }, 'Copy link');
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(url);
          copied.textContent = 'Copied.';
        } catch {
          input.select();
          copied.textContent = 'Select the link and copy it (Ctrl+C).';
        }
      });
      input.addEventListener('focus', () => input.select());
      replaceChildren(
        inviteOut,
        field('Invitation link', input, `Works once, until ${formatDateTime(inv.expires_at)}. Send it to the customer yourself.`),
        h('div', { class: 'actions' }, copy, copied),
      );
    } catch (e) {
      replaceChildren(inviteOut, h('p', { class: 'form-error', role: 'alert' }, describeError(e)));
    } finally {
      inviteButton.disabled = false;
    }
  });

  // Sessions and files.
  const sessions = h('ul', { class: 'plain-list' });
  const sessionsStatus = h('p', { class: 'muted', role: 'status' });
  const files = h('ul', { class: 'file-list' });
  const filesStatus = h('p', { class: 'muted', role: 'status' });
  const kind = h(
    'select',
    { name: 'kind' },
    h('option', { value: '' }, 'All files'),
    h('option', { value: 'image' }, 'Images'),
    h('option', { value: 'audio' }, 'Voice messages'),
    h('option', { value: 'file' }, 'Documents'),
  );
  kind.addEventListener('change', () => void loadFiles());

  const sessionRow = (s: SessionSummary) =>
    h(
      'li',
      null,
      h('a', { href: `#/sessions/${s.id}` }, s.subject || `Session of ${formatDateTime(s.created_at)}`),
      ' ',
      h('span', { class: `status status-${s.status}` }, s.status === 'open' ? 'Open' : 'Closed'),
      h('span', { class: 'muted' }, ` · opened ${formatDateTime(s.created_at)}${s.closed_at ? `, closed ${formatDateTime(s.closed_at)}` : ''}`),
    );
  const fileRow = (f: CustomerFile) => {
    const what = f.kind === 'image' ? 'Image' : f.kind === 'audio' ? 'Voice message' : 'Document';
    const extra = f.kind === 'audio' && f.duration_ms ? `, ${durationInWords(f.duration_ms)}` : '';
    return h(
      'li',
      null,
      f.kind === 'image' && safeUrl(f.thumbnail_url) ? h('img', { src: safeUrl(f.thumbnail_url), alt: '', width: 48, height: 48, class: 'file-thumb' }) : null,
      h(
        'div',
        null,
        safeUrl(f.url) ? h('a', { href: safeUrl(f.url), download: f.file_name }, f.file_name) : h('span', null, f.file_name),
        h('p', { class: 'muted small' }, `${what}${extra} · ${formatBytes(f.size)} · ${formatDateTime(f.created_at)} · `, h('a', { href: `#/sessions/${f.session_id}` }, 'in its session')),
      ),
    );
  };

  async function loadFiles(): Promise<void> {
    filesStatus.textContent = 'Loading…';
    try {
      const page = await ctx.api.customerFiles(id, { kind: kind.value || undefined, limit: 50 });
      replaceChildren(files, page.items.map(fileRow));
      filesStatus.textContent = page.items.length === 0 ? 'No files.' : '';
    } catch (e) {
      filesStatus.textContent = `The files could not be loaded: ${describeError(e)}`;
    }
  }
  async function loadSessions(): Promise<void> {
    try {
      const page = await ctx.api.customerSessions(id, { limit: 50 });
      replaceChildren(sessions, page.items.map(sessionRow));
      sessionsStatus.textContent = page.items.length === 0 ? 'No sessions yet.' : '';
    } catch (e) {
      sessionsStatus.textContent = `The sessions could not be loaded: ${describeError(e)}`;
    }
  }

  el.append(
    h('section', { class: 'card', 'aria-labelledby': 'new-session-h' }, h('h2', { id: 'new-session-h' }, 'Start a conversation'), openForm, openError),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'invite-h' },
      h('h2', { id: 'invite-h' }, 'Invite to the chat'),
      h('p', null, 'A link that opens this customer’s chat in their browser, without an account.'),
      inviteButton,
      inviteOut,
    ),
    h('section', { class: 'card', 'aria-labelledby': 'sessions-h' }, h('h2', { id: 'sessions-h' }, 'Sessions'), sessionsStatus, sessions),
    recordingsCard(ctx, id, scope),
    groupsCard(ctx, id),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'files-h' },
      h('h2', { id: 'files-h' }, 'Files'),
      field('Show', kind),
      filesStatus,
      files,
    ),
  );

  ctx.api
    .customer(id)
    .then((c) => {
      heading.textContent = c.name;
      ctx.setTitle(c.name);
      status.textContent = '';
      const rows: [string, string][] = [
        ['Email', c.email ?? '—'],
        ['Phone', c.phone ?? '—'],
        ['Reference', c.external_ref ?? '—'],
        ['Customer since', formatDate(c.created_at)],
      ];
      replaceChildren(details, rows.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
    })
    .catch((e) => {
      status.textContent = '';
      replaceChildren(details);
      el.replaceChildren(heading, h('p', { class: 'form-error', role: 'alert' }, `This customer could not be loaded: ${describeError(e)}`));
    });
  void loadSessions();
  void loadFiles();
  const off = ctx.live?.on((e) => {
    if (e.type === 'session' && e.session.customer_id === id) void loadSessions();
    if (e.type === 'message' && e.message.kind !== 'text') void loadFiles();
  });
  if (off) scope.add(off);
  return { title: 'Customer', el, dispose: () => scope.dispose() };
});
