// Customer groups: the list with a form for a new one, and a group's page where agents rename
// it, find customers and add them, paste many customer ids at once, remove members, and where
// admins delete it.

import { describeError } from '../api';
import { route, type Ctx } from '../app';
import { field, h, replaceChildren, Scope } from '../dom';
import { formatDateTime } from '../format';
import type { Customer, Group, GroupMember } from '../types';

/** Customer ids in pasted text: any `cus_…` tokens, each once, in order. */
export function customerIdsIn(text: string): string[] {
  const seen = new Set<string>();
  for (const m of text.matchAll(/\bcus_[0-9A-HJKMNP-TV-Z]{26}\b/g)) seen.add(m[0]);
  return [...seen];
}

route('/groups', 'staff', (ctx: Ctx) => {
  const status = h('p', { role: 'status', class: 'muted' }, 'Loading…');
  const list = h('ul', { class: 'plain-list group-list' });
  const more = h('button', { type: 'button', class: 'button secondary', hidden: true }, 'Show more');
  let cursor: string | null = null;

  const row = (g: Group) =>
    h(
      'li',
      { dataset: { group: g.id } },
      h('a', { href: `#/groups/${g.id}` }, g.name),
      g.description ? h('p', { class: 'muted small' }, g.description) : null,
    );

  async function load(reset: boolean): Promise<void> {
    try {
      const page = await ctx.api.groups({ limit: 50, cursor: reset ? undefined : cursor ?? undefined });
      if (reset) list.replaceChildren();
      for (const g of page.items) list.appendChild(row(g));
      cursor = page.next_cursor ?? null;
      more.hidden = !cursor;
      status.textContent = list.children.length === 0 ? 'No groups yet. A group gathers customers to send them announcements.' : '';
    } catch (e) {
      status.textContent = '';
      ctx.fail(e);
    }
  }
  more.addEventListener('click', () => void load(false));

  const name = h('input', { name: 'name', required: true, maxLength: 200, autocomplete: 'off' });
  const description = h('textarea', { name: 'description', maxLength: 1000, rows: 2 });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const create = h('button', { type: 'submit', class: 'button primary' }, 'Create group');
  const form = h(
    'form',
    {
      class: 'card form',
      'aria-labelledby': 'new-group-h',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        create.disabled = true;
        try {
          const g = await ctx.api.createGroup({ name: name.value.trim(), ...(description.value.trim() ? { description: description.value.trim() } : {}) });
          ctx.notify(`The group ${g.name} was created.`, 'info');
          ctx.navigate(`/groups/${g.id}`);
        } catch (err) {
          error.textContent = describeError(err);
        } finally {
          create.disabled = false;
        }
      },
    },
    h('h2', { id: 'new-group-h' }, 'New group'),
    field('Name', name),
    field('Description (optional)', description),
    error,
    h('div', { class: 'actions' }, create),
  );
  void load(true);
  return {
    title: 'Groups',
    el: h('section', { class: 'page narrow' }, h('h1', null, 'Groups'), status, list, more, form),
  };
});

route('/groups/:id', 'staff', (ctx: Ctx, { id }) => {
  const scope = new Scope();
  const heading = h('h1', null, 'Group');
  const descriptionText = h('p', { class: 'muted' });
  const status = h('p', { role: 'status', class: 'muted' }, 'Loading…');
  let group: Group | null = null;

  // Renaming.
  const name = h('input', { name: 'name', required: true, maxLength: 200, autocomplete: 'off' });
  const description = h('textarea', { name: 'description', maxLength: 1000, rows: 2 });
  const editError = h('p', { class: 'form-error', role: 'alert' });
  const editForm = h(
    'form',
    {
      class: 'card form',
      'aria-labelledby': 'edit-group-h',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        editError.textContent = '';
        if (!group) return;
        const patch: { name?: string; description?: string | null } = {};
        if (name.value.trim() !== group.name) patch.name = name.value.trim();
        if (description.value.trim() !== (group.description ?? '')) patch.description = description.value.trim() || null;
        if (Object.keys(patch).length === 0) return;
        try {
          show(await ctx.api.updateGroup(id, patch));
          ctx.notify('Changes saved.', 'info');
        } catch (err) {
          editError.textContent = describeError(err);
        }
      },
    },
    h('h2', { id: 'edit-group-h' }, 'Name and description'),
    field('Name', name),
    field('Description', description),
    editError,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button secondary' }, 'Save changes')),
  );

  function show(g: Group): void {
    group = g;
    heading.textContent = g.name;
    descriptionText.textContent = g.description ?? '';
    name.value = g.name;
    description.value = g.description ?? '';
    ctx.setTitle(g.name);
  }

  // Members.
  const names = new Map<string, string>();
  const members = h('ul', { class: 'plain-list member-list', 'aria-label': 'Members' });
  const membersStatus = h('p', { role: 'status', class: 'muted' });
  const moreMembers = h('button', { type: 'button', class: 'button secondary', hidden: true }, 'Show more members');
  let cursor: string | null = null;

  const memberRow = (m: GroupMember) => {
    const who = names.get(m.customer_id) ?? m.customer_id;
    const remove = h('button', { type: 'button', class: 'button small secondary' }, `Remove ${who}`);
    remove.addEventListener('click', async () => {
      remove.disabled = true;
      try {
        await ctx.api.removeGroupMembers(id, [m.customer_id]);
        ctx.notify(`${who} was removed from the group.`, 'info');
        await loadMembers(true);
      } catch (err) {
        remove.disabled = false;
        ctx.fail(err);
      }
    });
    return h(
      'li',
      { dataset: { customer: m.customer_id } },
      h('a', { href: `#/customers/${m.customer_id}` }, who),
      h('span', { class: 'muted small' }, ` · added ${formatDateTime(m.added_at)}`),
      ' ',
      remove,
    );
  };

  async function loadMembers(reset: boolean): Promise<void> {
    try {
      const page = await ctx.api.groupMembers(id, { limit: 50, cursor: reset ? undefined : cursor ?? undefined });
      // Names for the page, asked at once.
      await Promise.all(
        page.items
          .filter((m) => !names.has(m.customer_id))
          .map(async (m) => {
            const c = await ctx.api.customer(m.customer_id).catch(() => null);
            if (c) names.set(m.customer_id, c.name);
          }),
      );
      if (reset) members.replaceChildren();
      for (const m of page.items) members.appendChild(memberRow(m));
      cursor = page.next_cursor ?? null;
      moreMembers.hidden = !cursor;
      const shown = members.children.length;
      membersStatus.textContent = shown === 0 ? 'Nobody is in this group yet.' : `${shown}${cursor ? '+' : ''} ${shown === 1 && !cursor ? 'member' : 'members'}.`;
    } catch (err) {
      ctx.fail(err);
    }
  }
  moreMembers.addEventListener('click', () => void loadMembers(false));

  // Adding: find customers by name or email, or paste ids.
  const search = h('input', { type: 'search', name: 'q', autocomplete: 'off', placeholder: 'Name or email' });
  const found = h('ul', { class: 'plain-list found-list', 'aria-label': 'Customers found' });
  const addStatus = h('p', { role: 'status', class: 'muted' });
  async function add(ids: string[], what: string): Promise<void> {
    addStatus.textContent = '';
    try {
      const r = await ctx.api.addGroupMembers(id, ids);
      addStatus.textContent = r.changed === 0 ? `${what}: already in the group.` : `${what}: ${r.changed} added${r.requested > r.changed ? `, ${r.requested - r.changed} already in the group` : ''}.`;
      await loadMembers(true);
    } catch (err) {
      addStatus.textContent = '';
      ctx.notify(describeError(err), 'error');
    }
  }
  let debounce: ReturnType<typeof setTimeout> | null = null;
  scope.add(() => debounce && clearTimeout(debounce));
  search.addEventListener('input', () => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(async () => {
      const q = search.value.trim();
      if (!q) return found.replaceChildren();
      try {
        const page = await ctx.api.customers({ q, limit: 10 });
        replaceChildren(
          found,
          page.items.map((c: Customer) => {
            names.set(c.id, c.name);
            const button = h('button', { type: 'button', class: 'button small primary' }, `Add ${c.name}`);
            button.addEventListener('click', () => void add([c.id], c.name));
            return h('li', null, h('span', null, c.name, c.email ? h('span', { class: 'muted small' }, ` · ${c.email}`) : null), ' ', button);
          }),
        );
        if (page.items.length === 0) found.appendChild(h('li', { class: 'muted' }, `No customer’s name or email contains “${q}”.`));
      } catch (err) {
        ctx.fail(err);
      }
    }, 250);
  });
  const pasted = h('textarea', { name: 'customer_ids', rows: 3, spellcheck: false });
  const pasteForm = h(
    'form',
    {
      class: 'form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const ids = customerIdsIn(pasted.value);
        if (ids.length === 0) {
          addStatus.textContent = 'No customer ids (cus_…) in the text.';
          return;
        }
        await add(ids, `${ids.length} ${ids.length === 1 ? 'id' : 'ids'}`);
        pasted.value = '';
      },
    },
    field('Customer ids', pasted, 'Paste up to 10,000 ids (cus_…), separated any way you like.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button secondary' }, 'Add these customers')),
  );

  // Deleting, for admins.
  const danger =
    ctx.identity?.role === 'admin'
      ? (() => {
          const del = h('button', { type: 'button', class: 'button danger' }, 'Delete this group');
          del.addEventListener('click', async () => {
            if (!group || !confirm(`Delete the group ${group.name}? Its customers stay; only the group goes.`)) return;
            try {
              await ctx.api.deleteGroup(id);
              ctx.notify(`The group ${group.name} was deleted.`, 'info');
              ctx.navigate('/groups');
            } catch (err) {
              ctx.fail(err);
            }
          });
          return h('section', { class: 'card', 'aria-labelledby': 'danger-h' }, h('h2', { id: 'danger-h' }, 'Delete'), del);
        })()
      : null;

  void (async () => {
    try {
      show(await ctx.api.group(id));
      status.textContent = '';
      await loadMembers(true);
    } catch (err) {
      status.textContent = describeError(err);
    }
  })();

  return {
    title: 'Group',
    el: h(
      'section',
      { class: 'page group-page' },
      h('p', null, h('a', { href: '#/groups' }, '← All groups')),
      heading,
      descriptionText,
      status,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'members-h' },
        h('h2', { id: 'members-h' }, 'Members'),
        membersStatus,
        members,
        moreMembers,
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'add-h' },
        h('h2', { id: 'add-h' }, 'Add customers'),
        field('Find customers', search),
        found,
        pasteForm,
        addStatus,
      ),
      editForm,
      danger,
    ),
    dispose: () => scope.dispose(),
  };
});
