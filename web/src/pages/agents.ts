// Admins manage their team: the tenant's agents, inviting one (locally a one-time password shown
// once; in the cloud Cognito emails the invitation), changing a role, disabling or enabling.

import { describeError } from '../api';
import { route, type Ctx } from '../app';
import { field, h, replaceChildren } from '../dom';

interface AgentEntry {
  /** The agent's subject (the username locally, Cognito's sub in the cloud). */
  id: string;
  username: string;
  role: 'admin' | 'agent';
  disabled: boolean;
}

route('/agents', 'staff', (ctx: Ctx) => {
  const heading = h('h1', null, 'Agents');
  if (ctx.identity?.role !== 'admin') {
    return {
      title: 'Agents',
      el: h('section', { class: 'page narrow' }, heading, h('p', null, 'Only your workspace’s admins manage agents.')),
    };
  }
  const me = ctx.identity.id;
  const status = h('p', { role: 'status', class: 'muted' }, 'Loading…');
  const tbody = h('tbody');

  const row = (a: AgentEntry) => {
    const role = h(
      'select',
      { 'aria-label': `Role of ${a.username}`, disabled: a.id === me },
      h('option', { value: 'agent', selected: a.role === 'agent' }, 'Agent'),
      h('option', { value: 'admin', selected: a.role === 'admin' }, 'Admin'),
    );
    role.addEventListener('change', () => void update(a, { role: role.value }));
    const toggle = h(
      'button',
      { type: 'button', class: `button small ${a.disabled ? 'secondary' : 'danger'}`, disabled: a.id === me },
      a.disabled ? `Enable ${a.username}` : `Disable ${a.username}`,
    );
    toggle.addEventListener('click', () => void update(a, { disabled: !a.disabled }));
    return h(
      'tr',
      { dataset: { agent: a.username } },
      h('td', null, a.username, a.id === me ? h('span', { class: 'muted' }, ' (you)') : null),
      h('td', null, role),
      h('td', null, h('span', { class: `status ${a.disabled ? 'status-closed' : 'status-open'}` }, a.disabled ? 'Disabled' : 'Active')),
      h('td', null, toggle),
    );
  };

  async function load(): Promise<void> {
    try {
      const agents = await ctx.api.request<AgentEntry[]>('GET', '/v1/agents');
      replaceChildren(tbody, agents.map(row));
      status.textContent = agents.length === 0 ? 'No agents sign in with a password here yet.' : '';
    } catch (e) {
      status.textContent = `The agents could not be loaded: ${describeError(e)}`;
    }
  }

  async function update(agent: AgentEntry, patch: Record<string, unknown>): Promise<void> {
    const username = agent.username;
    try {
      await ctx.api.request('PATCH', `/v1/agents/${encodeURIComponent(agent.id)}`, patch);
      ctx.notify(`${username} was updated.`, 'info');
    } catch (e) {
      ctx.fail(e);
    }
    await load();
  }

  const username = h('input', { name: 'username', autocomplete: 'off', spellcheck: false, required: true, maxLength: 128 });
  const roleSelect = h('select', { name: 'role' }, h('option', { value: 'agent' }, 'Agent'), h('option', { value: 'admin' }, 'Admin'));
  const error = h('p', { class: 'form-error', role: 'alert' });
  const result = h('div', { class: 'invite-out' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Invite agent');
  const form = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'invite-agent-h',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        error.textContent = '';
        result.replaceChildren();
        submit.disabled = true;
        try {
          const invited = await ctx.api.request<AgentEntry & { one_time_password?: string }>('POST', '/v1/agents', {
            username: username.value.trim(),
            role: roleSelect.value,
          });
          username.value = '';
          const oneTime = invited.one_time_password;
          if (!oneTime) {
            replaceChildren(result, h('p', { role: 'status' }, `${invited.username} was invited: they receive an email with a temporary password.`));
            await load();
            return;
          }
          const password = h('input', { readOnly: true, value: oneTime, class: 'invite-url', spellcheck: false });
          const copied = h('span', { role: 'status', class: 'muted' });
          const copy = h('button', { type: 'button', class: 'button secondary small' }, 'Copy password');
          copy.addEventListener('click', async () => {
            try {
              await navigator.clipboard.writeText(oneTime);
              copied.textContent = 'Copied.';
            } catch {
              password.select();
              copied.textContent = 'Select the password and copy it (Ctrl+C).';
            }
          });
          replaceChildren(
            result,
            field(`One-time password for ${invited.username}`, password, 'Shown only now. Give it to them; they sign in with it at this address.'),
            h('div', { class: 'actions' }, copy, copied),
          );
          await load();
        } catch (err) {
          error.textContent = describeError(err);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h2', { id: 'invite-agent-h' }, 'Invite an agent'),
    h('div', { class: 'inline-form' }, field('Username', username), field('Role', roleSelect), submit),
    error,
    result,
  );

  void load();
  return {
    title: 'Agents',
    el: h(
      'section',
      { class: 'page' },
      heading,
      form,
      status,
      h(
        'table',
        { class: 'table' },
        h('caption', { class: 'sr-only' }, 'Agents'),
        h(
          'thead',
          null,
          h('tr', null, h('th', { scope: 'col' }, 'Username'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions'))),
        ),
        tbody,
      ),
    ),
  };
});
