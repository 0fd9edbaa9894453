// A call in the customer's own video app, in Chromium against confer-local (docs/providers.md):
// the tenant offers Jitsi as its default, the agent's start control says so, starting opens the
// Jitsi room in a new tab without asking for the camera, and both sides find the room's link in
// the conversation. Jitsi's server is not reachable here: the new tab's request is answered by
// the driver, so what is checked is where Confer sends the person.

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { person, resetScreens, screen, Server, startStack, stopStack, type Person } from './harness';

const PASSWORD = 'correct horse battery staple';

let server: Server;
let browser: Browser;
let dataDir: string;
let agent: Person;
let customer: Person;
const s = { sessionId: '' };

const callLines = (page: Page) => page.locator('ol.messages > li.kind-call');

/** Jitsi's server is not reachable here: the person's browser answers for it. */
async function jitsiAnswers(p: Person): Promise<void> {
  await p.context.route('https://meet.jit.si/**', (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Jitsi Meet</title><h1>Jitsi room</h1>' }),
  );
}

beforeAll(async () => {
  resetScreens('video-apps');
  ({ server, browser, dataDir } = await startStack({ tenant: 'acme', username: 'ann', password: PASSWORD }));
  const admin = server.api(server.token('acme', 'admin', 'root'));
  await admin.put('/v1/tenant/video-providers/jitsi', { provider: 'jitsi', base_url: 'https://meet.jit.si' });
  await admin.patch('/v1/tenant/settings', { video: { providers: ['jitsi'], default: 'jitsi' } });
  const api = server.api(server.token('acme', 'agent', 'ann'));
  const ada = await api.post('/v1/customers', { name: 'Ada Lovelace', email: 'ada@example.com' });
  s.sessionId = (await api.post('/v1/sessions', { customer_id: ada.id, subject: 'A video app' })).id;
  const invitation = await api.post(`/v1/customers/${ada.id}/invitations`, {});

  // No camera or microphone granted: a call in a video app needs neither here.
  agent = await person(browser, server.base, { permissions: [] });
  await jitsiAnswers(agent);
  await agent.page.goto('/');
  await agent.page.getByLabel('Workspace', { exact: true }).fill('acme');
  await agent.page.getByLabel('Username', { exact: true }).fill('ann');
  await agent.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await agent.page.getByRole('button', { name: 'Sign in' }).click();
  await agent.page.getByRole('heading', { name: 'Open sessions', level: 1 }).waitFor();
  await agent.page.goto(`/#/sessions/${s.sessionId}`);
  await agent.page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();

  customer = await person(browser, server.base, { phone: true, permissions: [] });
  await jitsiAnswers(customer);
  await customer.page.goto(server.base + invitation.join_path);
  await customer.page.getByRole('heading', { name: 'Your conversation with acme' }).waitFor();
});

afterAll(async () => {
  await stopStack({ server, browser, dataDir });
});

describe('a call in the tenant’s video app', () => {
  it('the agent starts a Jitsi call from the session: the room opens in a new tab and its link is in the conversation for both', async () => {
    const where = agent.page.getByLabel('Call in');
    await expect.poll(() => where.inputValue()).toBe('jitsi');
    expect(await where.locator('option').allInnerTexts()).toEqual(['Confer video', 'Jitsi']);
    // A video app chooses its own quality; Confer's own video stays a choice.
    expect(await agent.page.getByLabel('Video quality').isHidden()).toBe(true);
    await where.selectOption('integrated');
    expect(await agent.page.getByLabel('Video quality').isVisible()).toBe(true);
    await where.selectOption('jitsi');
    await screen(agent.page, 'agent-start-in-jitsi');

    const [tab] = await Promise.all([
      agent.context.waitForEvent('page'),
      agent.page.getByRole('button', { name: 'Start video call' }).click(),
    ]);
    await tab.waitForLoadState();
    expect(tab.url()).toMatch(/^https:\/\/meet\.jit\.si\/confer-[a-z0-9_-]{20,}$/);
    await tab.getByRole('heading', { name: 'Jitsi room' }).waitFor();
    await tab.close();

    // The conversation keeps the call and its room for both sides.
    const agentLine = callLines(agent.page).last();
    await agentLine.getByText(/Video call started in Jitsi by/).waitFor();
    const agentLink = agentLine.getByRole('link', { name: 'Join in Jitsi' });
    const room = await agentLink.getAttribute('href');
    expect(room).toBe(tab.url());
    const customerLine = callLines(customer.page).last();
    await customerLine.getByRole('link', { name: 'Join in Jitsi' }).waitFor();
    expect(await customerLine.getByRole('link', { name: 'Join in Jitsi' }).getAttribute('href')).toBe(room);
    expect(agent.problems).toEqual([]);
    expect(customer.problems).toEqual([]);
    await screen(agent.page, 'agent-jitsi-call-in-history');
    await screen(customer.page, 'customer-jitsi-call-in-history');

    // The customer is told the call is in Jitsi, and joins there: no camera is asked for here.
    const incoming = customer.page.getByRole('group', { name: 'Incoming video call' });
    await incoming.getByText('Video call in Jitsi').waitFor();
    const [theirs] = await Promise.all([customer.context.waitForEvent('page'), incoming.getByRole('button', { name: 'Join in Jitsi' }).click()]);
    await theirs.waitForLoadState();
    expect(theirs.url()).toBe(room);
    await theirs.close();
    await incoming.waitFor({ state: 'detached' });
    expect(customer.problems).toEqual([]);
    await customer.page.getByText('You are in this call in Jitsi.').waitFor();
    await screen(customer.page, 'customer-joined-in-jitsi');
  });
});
