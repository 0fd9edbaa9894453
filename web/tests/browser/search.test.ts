// Search in Chromium against confer-local (docs/search.md): an agent and a customer exchange
// messages; each finds them from the search box in the top bar, sees the words that matched
// marked, and opens a hit where it was found: the message in its conversation, a customer's
// page, an announcement, a moment of a recorded call. Each test on a fresh confer-local with its
// own data directory. The index follows the store a moment later: the tests wait for it.

import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshDataDir, launchBrowser, person, removeDir, repoDir, resetScreens, screen, Server, type Person, signInWithToken, joinByInvitation } from './harness';

let browser: Browser;
let server: Server;
let dataDir: string;
const people: Person[] = [];

async function fresh(env: Record<string, string> = {}): Promise<void> {
  dataDir = freshDataDir();
  server = new Server(dataDir, env);
  await server.start();
}

async function open(options: { phone?: boolean } = {}): Promise<Person> {
  const p = await person(browser, server.base, options);
  people.push(p);
  return p;
}

const agentToken = () => server.token('acme', 'agent', 'ann');
const api = () => server.api(agentToken());

async function agentPage(): Promise<Person> {
  return signInWithToken(await open(), agentToken());
}

async function customerPage(customerId: string, options: { phone?: boolean } = {}): Promise<Person> {
  const invitation = await api().post<{ join_path: string }>(`/v1/customers/${customerId}/invitations`, {});
  return joinByInvitation(await open(options), server.base, invitation.join_path);
}

/** Waits until the index has caught up: `q` finds at least `min` matches for this token. */
async function indexed(q: string, token: string, min = 1): Promise<void> {
  const reader = server.api(token);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await reader.get<{ total: number }>(`/v1/search?q=${encodeURIComponent(q)}`);
    if (answer.total >= min) return;
    if (Date.now() > deadline) throw new Error(`the index did not find ${min} of “${q}” (found ${answer.total})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const box = (page: Page) => page.getByRole('search').getByRole('searchbox', { name: 'Search' });
const panel = (page: Page) => page.getByRole('region', { name: 'Search results' });
const group = (page: Page, kind: string) => panel(page).locator(`section.search-group[data-kind=${kind}]`);

/** Types into the search box as a person does, and waits for the answer to show. */
async function search(page: Page, words: string): Promise<void> {
  await box(page).fill('');
  await box(page).pressSequentially(words, { delay: 30 });
  await panel(page).getByRole('status').filter({ hasText: /result|Nothing found/ }).waitFor();
}

/** Whether an element is inside the visible part of the conversation's scroller. */
async function inView(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const scroller = el?.closest('.scroller');
    if (!el || !scroller) return false;
    const a = el.getBoundingClientRect();
    const b = scroller.getBoundingClientRect();
    return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  }, selector);
}

beforeAll(async () => {
  resetScreens('search');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const p of people.splice(0)) {
    expect(p.problems, 'CSP violations or uncaught errors').toEqual([]);
    await p.context.close();
  }
  await server?.stop();
  if (dataDir) removeDir(dataDir);
});

describe('search', () => {
  it('an agent finds a customer’s message, marked, and opens it in its conversation, older history read to it', async () => {
    await fresh();
    const ada = await api().post('/v1/customers', { name: 'Ada Lovelace', email: 'ada@example.com' });
    const session = await api().post('/v1/sessions', { customer_id: ada.id, subject: 'Damaged parcel' });
    const socket = await server.socket(server.token('acme', 'customer', ada.id));
    await socket.sendText(session.id, 'first', 'My parcel arrived and the box was crushed');
    // More than a page of history after it: the conversation opens on its latest messages.
    for (let i = 1; i <= 60; i++) await socket.sendText(session.id, `later-${i}`, `Status update ${i} on the delivery`);
    socket.close();
    await indexed('crushed', agentToken());
    await indexed('status update', agentToken(), 60);

    const { page } = await agentPage();
    // "/" goes to the search box from anywhere outside a field.
    await page.locator('body').press('/');
    expect(await box(page).evaluate((el) => el === document.activeElement)).toBe(true);
    // The last word still being typed matches as the start of a word.
    await search(page, 'crush');
    const messages = group(page, 'message');
    await messages.getByRole('heading', { name: /^Messages/ }).waitFor();
    expect(await messages.locator('.search-count [aria-hidden=true]').innerText()).toBe('1');
    const hit = messages.getByRole('link');
    expect(await hit.count()).toBe(1);
    expect(await hit.locator('mark').allInnerTexts()).toEqual([expect.stringMatching(/^crush/i)]);
    expect(await hit.innerText()).toContain('My parcel arrived and the box was');
    await hit.locator('.search-hit-customer', { hasText: 'Ada Lovelace' }).waitFor();
    await screen(page, 'agent-search-message');

    // Opened from the keyboard: the conversation, read back to the message, which is marked and has focus.
    await box(page).press('ArrowDown');
    expect(await hit.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`#/sessions/${session.id}\\?seq=1$`));
    const found = page.locator('ol.messages > li[data-seq="1"]');
    await found.and(page.locator('.found')).waitFor();
    await expect.poll(() => found.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await inView(page, 'ol.messages > li[data-seq="1"]')).toBe(true);
    expect(await page.locator('ol.messages > li[data-seq]').count()).toBe(61);
    expect(await panel(page).isHidden()).toBe(true);
    await screen(page, 'agent-message-opened');

    // Many hits come a page at a time.
    await search(page, 'status update');
    await panel(page).getByText('60 results, 20 shown.').waitFor();
    expect(await group(page, 'message').getByRole('link').count()).toBe(20);
    await panel(page).getByRole('button', { name: 'More results' }).click();
    await panel(page).getByText('60 results, 40 shown.').waitFor();
    expect(await group(page, 'message').getByRole('link').count()).toBe(40);
    // Escape closes the panel and leaves the person in the box.
    await page.keyboard.press('Escape');
    await panel(page).waitFor({ state: 'hidden' });
    expect(await box(page).evaluate((el) => el === document.activeElement)).toBe(true);
  });

  it('an agent opens a customer and an announcement, filters by kind and day, and reads why a query is refused', async () => {
    await fresh();
    const ada = await api().post('/v1/customers', { name: 'Ada Lovelace', email: 'ada@example.com' });
    const session = await api().post('/v1/sessions', { customer_id: ada.id });
    const socket = await server.socket(server.token('acme', 'customer', ada.id));
    await socket.sendText(session.id, 'w', 'Is the warehouse open on Friday?');
    socket.close();
    const announcement = await api().post('/v1/announcements', {
      title: 'Warehouse closed on Friday',
      body: 'Our warehouse is closed on Friday for inventory. Parcels ship on Monday.',
      audience: { customer_ids: [ada.id], group_ids: [] },
    });
    await indexed('warehouse', agentToken(), 2);

    const { page } = await agentPage();
    await search(page, 'lovelace');
    const customers = group(page, 'customer');
    await customers.getByRole('heading', { name: /^Customers/ }).waitFor();
    expect(await customers.locator('.search-hit-title mark').innerText()).toBe('Lovelace');
    await customers.getByRole('link', { name: /Ada Lovelace/ }).click();
    await page.waitForURL(new RegExp(`#/customers/${ada.id}$`));
    await page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();

    // Two kinds found; the chips filter to one.
    await search(page, 'warehouse');
    await group(page, 'announcement').waitFor();
    await group(page, 'message').waitFor();
    const kinds = panel(page).getByRole('group', { name: 'Kind' });
    for (const name of [/^All\W+2$/, /^Messages\W+1$/, /^Announcements\W+1$/]) await kinds.getByRole('button', { name }).waitFor();
    expect(await kinds.getByRole('button').count()).toBe(3);
    await screen(page, 'agent-search-kinds');
    await kinds.getByRole('button', { name: /^Announcements/ }).click();
    await group(page, 'message').waitFor({ state: 'detached' });
    expect(await kinds.getByRole('button', { name: /^Announcements/ }).getAttribute('aria-pressed')).toBe('true');
    expect(await panel(page).locator('a.search-hit').count()).toBe(1);

    // A range of days that holds nothing: the empty state offers to search everything again.
    const tomorrow = new Date(Date.now() + 86_400_000);
    const day = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}`;
    await panel(page).getByLabel('From', { exact: true }).fill(day);
    await panel(page).getByText('Nothing found for “warehouse”.').waitFor();
    await screen(page, 'agent-search-empty');
    await panel(page).getByRole('button', { name: 'Search all kinds and dates' }).click();
    await group(page, 'message').waitFor();
    // Newest first: the announcement was made after the message.
    await panel(page).getByLabel('Order', { exact: true }).selectOption('date');
    await expect.poll(async () => (await panel(page).locator('a.search-hit').evaluateAll((as) => as.map((a) => (a as HTMLElement).dataset.kind)))).toEqual(['message', 'announcement']);

    await group(page, 'announcement').getByRole('link').click();
    await page.waitForURL(/#\/announcements\?show=/);
    const item = page.locator(`li.announcement-item.found[data-announcement="${announcement.id}"]`);
    await item.waitFor();
    await expect.poll(() => item.evaluate((el) => el === document.activeElement)).toBe(true);
    await screen(page, 'agent-announcement-opened');

    // A query the API refuses: its reason, in its words.
    await box(page).fill('"open');
    const alert = panel(page).getByRole('alert');
    await alert.filter({ hasText: 'unbalanced quote' }).waitFor();
    expect(await alert.innerText()).toMatch(/^q has an unbalanced quote/);
    expect(await panel(page).locator('a.search-hit').count()).toBe(0);
    await screen(page, 'agent-search-refused');
  });

  it('a customer finds only their own conversation and inbox, and opens the message and the announcement', async () => {
    await fresh();
    const ada = await api().post('/v1/customers', { name: 'Ada Lovelace' });
    const grace = await api().post('/v1/customers', { name: 'Grace Hopper' });
    const adaSession = await api().post('/v1/sessions', { customer_id: ada.id, subject: 'Damaged parcel' });
    const graceSession = await api().post('/v1/sessions', { customer_id: grace.id, subject: 'Lamp' });
    const adaSocket = await server.socket(server.token('acme', 'customer', ada.id));
    await adaSocket.sendText(adaSession.id, 'a1', 'The box was crushed in transit');
    adaSocket.close();
    const graceSocket = await server.socket(server.token('acme', 'customer', grace.id));
    await graceSocket.sendText(graceSession.id, 'g1', 'My lamp came crushed as well');
    graceSocket.close();
    const agentSocket = await server.socket(agentToken());
    await agentSocket.sendText(adaSession.id, 'r1', 'Sorry about that, we will send a new one');
    agentSocket.close();
    await api().post('/v1/announcements', { title: 'Holiday opening hours', body: 'We close early on the 24th.', audience: { customer_ids: [ada.id], group_ids: [] } });
    await indexed('crushed', agentToken(), 2);
    const adaToken = server.token('acme', 'customer', ada.id);
    await indexed('holiday', adaToken);

    const { page } = await customerPage(ada.id, { phone: true });
    await page.getByText('Sorry about that, we will send a new one').waitFor();
    await search(page, 'crushed');
    const messages = group(page, 'message');
    expect(await messages.getByRole('link').count()).toBe(1);
    expect(await messages.getByRole('link').innerText()).toContain('The box was crushed in transit');
    expect(await panel(page).innerText()).not.toContain('lamp');
    expect(await panel(page).getByRole('status').innerText()).toBe('1 result.');
    // Their conversation's subject says where it was.
    expect(await messages.locator('.search-hit-meta').innerText()).toContain('Damaged parcel');
    await screen(page, 'customer-search');
    await messages.getByRole('link').click();
    await page.waitForURL(new RegExp(`#/chat/${adaSession.id}\\?seq=1$`));
    await page.locator('ol.messages > li[data-seq="1"].found').waitFor();
    expect(await inView(page, 'ol.messages > li[data-seq="1"]')).toBe(true);
    await screen(page, 'customer-message-opened');

    await search(page, 'holiday');
    await group(page, 'announcement').getByRole('link').click();
    const dialog = page.getByRole('dialog', { name: 'Holiday opening hours' });
    await dialog.waitFor();
    await dialog.getByText('We close early on the 24th.').waitFor();
    await screen(page, 'customer-announcement-opened');
  });

  it('one search box finds a message, a file by the text inside it and a spoken sentence; the turn opens the recording at that moment', async () => {
    // A speech engine that hears the same words in any sound, so the transcript is known.
    const engine = join(freshDataDir(), 'python');
    writeFileSync(
      engine,
      [
        '#!/bin/sh',
        'cat > /dev/null',
        `echo '{"word":"<s>","start_ms":0,"end_ms":100,"prob":1.0}'`,
        ...['your', 'refund', 'is', 'approved'].map((w, i) => `echo '{"word":"${w}","start_ms":${1000 + i * 250},"end_ms":${1240 + i * 250},"prob":0.9}'`),
        '',
      ].join('\n'),
    );
    chmodSync(engine, 0o755);
    await fresh({ CONFER_SPEECH_PYTHON: engine });
    const ada = await api().post('/v1/customers', { name: 'Ada Lovelace' });
    const session = await api().post('/v1/sessions', { customer_id: ada.id });
    // A call recorded as the agent's browser does it: the track's chunks announced, then PUT.
    await api().post(`/v1/sessions/${session.id}/call`, {});
    const { recording } = await api().post(`/v1/sessions/${session.id}/call/recording`, {});
    const sound = readFileSync(join(repoDir, 'tests', 'fixtures', 'media', 'voice.webm'));
    const { upload } = await api().post(`/v1/recordings/${recording.id}/chunks`, { track: 'agent.ann', seq: 0, content_type: 'audio/webm;codecs=opus', size: sound.length });
    expect((await fetch(upload.url, { method: upload.method, headers: upload.headers, body: sound })).status).toBe(200);
    const stop = await fetch(`${server.base}/v1/sessions/${session.id}/call/recording`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${agentToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ chunks: { 'agent.ann': 1 } }),
    });
    expect(stop.status).toBe(200);
    await api().post(`/v1/sessions/${session.id}/call/end`, {});
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await api().get(`/v1/recordings/${recording.id}`);
      if (r.transcript?.status === 'ready') break;
      if (Date.now() > deadline || r.status === 'failed' || r.transcript?.status === 'failed') throw new Error(`no transcript: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    // The customer writes about it and sends the claim form, a PDF whose text names the kettle.
    const customerToken = server.token('acme', 'customer', ada.id);
    const socket = await server.socket(customerToken);
    await socket.sendText(session.id, 'ask', 'When will my refund arrive?');
    socket.close();
    const pdf = readFileSync(join(repoDir, 'tests', 'fixtures', 'media', 'warranty.pdf'));
    const ticket = await server.api(customerToken).post(`/v1/sessions/${session.id}/attachments`, {
      client_upload_id: 'claim', file_name: 'refund-claim.pdf', content_type: 'application/pdf', size: pdf.length,
    });
    expect((await fetch(ticket.upload.url, { method: ticket.upload.method, headers: ticket.upload.headers, body: pdf })).status).toBe(200);
    await indexed('refund', agentToken(), 3);
    await indexed('kettle', agentToken());

    const { page } = await agentPage();
    await search(page, 'refund');
    // The message, the file and the turn of the call, each under its kind.
    await group(page, 'message').getByRole('link', { name: /When will my refund arrive/ }).waitFor();
    await group(page, 'file').getByRole('link', { name: /refund-claim\.pdf/ }).waitFor();
    // The file by a word only its text holds.
    await search(page, 'kettle');
    const files = group(page, 'file');
    expect(await files.getByRole('link').locator('mark').allInnerTexts()).toEqual(['kettle']);
    expect(await group(page, 'message').count()).toBe(0);
    await screen(page, 'agent-search-file-text');
    await search(page, 'refund');
    const turns = group(page, 'transcript');
    await turns.getByRole('heading', { name: /^Call transcripts/ }).waitFor();
    const hit = turns.getByRole('link');
    expect(await hit.locator('mark').innerText()).toBe('refund');
    expect(await hit.locator('.search-hit-meta').innerText()).toMatch(/Ada Lovelace · ann · at 00:01/);
    await screen(page, 'agent-search-transcript');
    await hit.click();
    await page.waitForURL(new RegExp(`#/recordings/${recording.id}\\?t=1000`));
    const player = page.locator('.recording-player');
    await player.waitFor();
    await expect.poll(() => player.evaluate((m: HTMLMediaElement) => m.currentTime), { timeout: 10_000 }).toBeCloseTo(1, 1);
    expect(await player.evaluate((m: HTMLMediaElement) => m.paused)).toBe(true);
    await page.locator('li.turn[aria-current=true]', { hasText: 'your refund is approved' }).waitFor();
    await screen(page, 'agent-transcript-opened');
  });
});
