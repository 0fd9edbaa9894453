// Customer groups and announcements in Chromium against confer-local: an agent manages a group,
// writes an announcement with a video to a group and a customer, watches its counts; a customer
// gets it live in the inbox beside their chat, plays it and reads it. Each test on a fresh
// confer-local with its own data directory.

import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freshDataDir, launchBrowser, person, removeDir, repoDir, resetScreens, screen, Server, waitFor, type Person, signInWithToken, joinByInvitation } from './harness';

const VIDEO = join(repoDir, 'tests', 'fixtures', 'media', 'video.webm');

let browser: Browser;
let server: Server;
let dataDir: string;
const people: Person[] = [];

async function open(options: { phone?: boolean } = {}): Promise<Person> {
  const p = await person(browser, server.base, options);
  people.push(p);
  return p;
}

/** An agent signed in with a token of `confer-local token`. */
async function agentPage(): Promise<Person> {
  return signInWithToken(await open(), server.token('acme', 'agent', 'ann'));
}

/** A customer in their chat through an invitation link. */
async function customerPage(customerId: string, options: { phone?: boolean } = {}): Promise<Person> {
  const invitation = await api().post<{ join_path: string }>(`/v1/customers/${customerId}/invitations`, {});
  return joinByInvitation(await open(options), server.base, invitation.join_path);
}

const api = () => server.api(server.token('acme', 'agent', 'ann'));

function nav(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
}

function announcement(page: Page, title: string) {
  return page.locator('li.announcement-item', { has: page.getByRole('heading', { name: title, exact: true }) });
}

async function countOf(page: Page, title: string, key: string): Promise<string> {
  return (await announcement(page, title).locator(`dd[data-count=${key}]`).textContent()) ?? '';
}

beforeAll(async () => {
  resetScreens('announcements');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  dataDir = freshDataDir();
  server = new Server(dataDir);
  await server.start();
});

afterEach(async () => {
  for (const p of people.splice(0)) {
    expect(p.problems, 'CSP violations or uncaught errors').toEqual([]);
    await p.context.close();
  }
  await server.stop();
  removeDir(dataDir);
});

describe('customer groups', () => {
  it('an agent creates a group, adds customers found and pasted, removes one; the customer’s page lists the group', async () => {
    const ada = await api().post('/v1/customers', { name: 'Ada Lovelace', email: 'ada@example.com' });
    const grace = await api().post('/v1/customers', { name: 'Grace Hopper', email: 'grace@navy.example' });
    const { page } = await agentPage();

    await nav(page, 'Groups').click();
    await page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
    await page.getByText('No groups yet.').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Beta testers');
    await page.getByLabel('Description (optional)', { exact: true }).fill('They try new things first.');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: 'Beta testers', level: 1 }).waitFor();
    await page.getByText('Nobody is in this group yet.').waitFor();

    // Found by name.
    await page.getByLabel('Find customers', { exact: true }).fill('Ada');
    await page.getByRole('button', { name: 'Add Ada Lovelace' }).click();
    await page.getByRole('status').filter({ hasText: 'Ada Lovelace: 1 added.' }).waitFor();
    await page.getByRole('list', { name: 'Members' }).getByRole('link', { name: 'Ada Lovelace' }).waitFor();

    // Pasted: one new, one already a member.
    await page.getByLabel('Customer ids', { exact: true }).fill(`id,name\n${grace.id},Grace\n${ada.id},Ada\n`);
    await page.getByRole('button', { name: 'Add these customers' }).click();
    await page.getByRole('status').filter({ hasText: '2 ids: 1 added, 1 already in the group.' }).waitFor();
    await page.getByRole('list', { name: 'Members' }).getByRole('link', { name: 'Grace Hopper' }).waitFor();
    await page.getByText('2 members.').waitFor();
    await screen(page, 'group-members');

    await page.getByRole('button', { name: 'Remove Grace Hopper' }).click();
    await page.getByText('Grace Hopper was removed from the group.').waitFor();
    await page.locator(`.member-list li[data-customer="${grace.id}"]`).waitFor({ state: 'detached' });
    await page.getByText('1 member.', { exact: true }).waitFor();
    expect(await page.getByRole('list', { name: 'Members' }).getByRole('listitem').count()).toBe(1);

    await page.getByRole('list', { name: 'Members' }).getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();
    const groups = page.getByRole('region', { name: 'Groups' });
    await groups.getByRole('link', { name: 'Beta testers' }).waitFor();
    await groups.scrollIntoViewIfNeeded();
    await screen(page, 'customer-groups');
    // Grace's page says she is in none.
    await page.goto(`/#/customers/${grace.id}`);
    await page.getByRole('region', { name: 'Groups' }).getByText('In no group.').waitFor();
  });
});

describe('announcements', () => {
  it('an agent sends one with a video to a group and a customer; the customer gets it live, plays it and reads it', async () => {
    const ada = await api().post('/v1/customers', { name: 'Ada Lovelace', email: 'ada@example.com' });
    const grace = await api().post('/v1/customers', { name: 'Grace Hopper', email: 'grace@navy.example' });
    const vip = await api().post('/v1/groups', { name: 'VIP', description: 'Our best customers' });
    await api().post(`/v1/groups/${vip.id}/members`, { customer_ids: [ada.id] });
    await api().post('/v1/sessions', { customer_id: ada.id, subject: 'Welcome' });

    // Ada is in her chat before it is sent: the inbox beside it is empty.
    const customer = await customerPage(ada.id);
    const inbox = customer.page.getByRole('region', { name: /Inbox/ });
    await inbox.getByText('No announcements yet.').waitFor();

    const agent = await agentPage();
    const page = agent.page;
    await nav(page, 'Announcements').click();
    await page.getByRole('heading', { name: 'Announcements', level: 1 }).waitFor();
    await page.getByText('No announcements yet.').waitFor();

    await page.getByLabel('Title', { exact: true }).fill('Spring opening hours');
    await page.getByLabel('Message', { exact: true }).fill('From Monday we open at 8.\n\nSee you soon!');
    const reach = page.locator('.audience-reach');
    await page.getByRole('checkbox', { name: 'VIP' }).check();
    await page.locator('.audience-reach[data-recipients="1"]').waitFor();
    await page.getByLabel('Find customers', { exact: true }).fill('grace');
    await page.getByRole('button', { name: 'Add Grace Hopper' }).click();
    // Ada named as well as in the group: still two recipients, each once.
    await page.getByLabel('Customer ids', { exact: true }).fill(ada.id);
    await page.locator('.audience-reach[data-recipients="2"]').waitFor();
    expect(await reach.textContent()).toBe('Reaches 2 customers (2 chosen one by one; VIP: 1 member). Each customer gets it once.');
    await page.getByLabel('Customer ids', { exact: true }).fill('');
    await page.locator('.audience-reach[data-recipients="2"]').filter({ hasText: 'Reaches 2 customers (1 chosen one by one; VIP: 1 member).' }).waitFor();

    await page.getByLabel('Video or audio (optional)', { exact: true }).setInputFiles(VIDEO);
    await page.locator('.media-status[data-state=ready]').waitFor();
    await page.getByText(/^video\.webm is ready: Video, 160 × 120, 0:02/).waitFor();
    await screen(page, 'compose');

    await page.getByRole('button', { name: 'Send now' }).click();
    const item = announcement(page, 'Spring opening hours');
    await item.waitFor();
    // The list is read again while it is on its way: the counts rise to 2 delivered, 1 live.
    await item.and(page.locator('[data-status=sent]')).waitFor();
    await waitFor(async () => (await countOf(page, 'Spring opening hours', 'delivered')) === '2', 'delivered 2');
    expect(await countOf(page, 'Spring opening hours', 'targeted')).toBe('2');
    expect(await countOf(page, 'Spring opening hours', 'delivered_live')).toBe('1');
    expect(await countOf(page, 'Spring opening hours', 'read')).toBe('0');
    // The form is ready for the next one.
    expect(await page.getByLabel('Title', { exact: true }).inputValue()).toBe('');
    await screen(page, 'sent');

    // Ada got it live: on top, the badge says 1.
    const badge = customer.page.locator('.inbox-badge');
    await customer.page.locator('.inbox-badge[data-unread="1"]').waitFor();
    expect(await badge.locator('[aria-hidden=true]').innerText()).toBe('1');
    const entry = inbox.getByRole('button', { name: /Spring opening hours/ });
    await entry.waitFor();
    expect(await entry.innerText()).toContain('Video 0:02');
    await screen(customer.page, 'customer-inbox');

    await entry.click();
    const dialog = customer.page.getByRole('dialog', { name: 'Spring opening hours' });
    await dialog.waitFor();
    await dialog.getByText('See you soon!').waitFor();
    const video = dialog.locator('video');
    expect(await video.getAttribute('src')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/blobs\//);
    await customer.page.waitForFunction(() => (document.querySelector('dialog[open] video') as HTMLVideoElement | null)?.readyState! >= 1, null, { timeout: 10_000 });
    expect(await video.evaluate((v: HTMLVideoElement) => Math.round(v.duration))).toBe(2);
    // Opened is read: the badge goes.
    await customer.page.locator('.inbox-badge[data-unread="0"]').waitFor({ state: 'attached' });
    expect(await badge.isHidden()).toBe(true);
    await screen(customer.page, 'customer-announcement');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await entry.evaluate((el) => el === document.activeElement)).toBe(true);
    await customer.page.locator(`.inbox-list li[data-read=true]`).waitFor();

    // The agent's read count.
    await page.getByRole('button', { name: 'Refresh' }).click();
    await waitFor(async () => (await countOf(page, 'Spring opening hours', 'read')) === '1', 'read 1');

    // Grace, on her phone, without a conversation: the inbox above, folded, with its badge.
    const grace2 = await customerPage(grace.id, { phone: true });
    await grace2.page.getByText(/No conversation with acme is open/).waitFor();
    await grace2.page.locator('.inbox-badge[data-unread="1"]').waitFor();
    const toggle = grace2.page.getByRole('button', { name: /^Inbox/ });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    await grace2.page.getByRole('button', { name: /Spring opening hours/ }).waitFor();
    await screen(grace2.page, 'customer-inbox-phone');
  });

  it('a scheduled one can be cancelled from the list; a refusal of the audience is said in words', async () => {
    const grace = await api().post('/v1/customers', { name: 'Grace Hopper', email: 'grace@navy.example' });
    const { page } = await agentPage();
    await nav(page, 'Announcements').click();
    await page.getByText('No announcements yet.').waitFor();
    await page.getByText(/No groups yet/).waitFor();

    await page.getByLabel('Title', { exact: true }).fill('Later news');
    await page.getByLabel('Message', { exact: true }).fill('Something for tomorrow.');
    // An id of nobody: the API's refusal, in words.
    await page.getByLabel('Customer ids', { exact: true }).fill('cus_01M8E24NKB3T5X7Z9C1E4G6J8M');
    await page.locator('.audience-reach.error-text').filter({ hasText: 'This audience cannot be counted: no such customers: cus_01M8E24NKB3T5X7Z9C1E4G6J8M' }).waitFor();
    await page.getByRole('button', { name: 'Send now' }).click();
    await page.getByRole('alert').filter({ hasText: 'The announcement was not sent: no such customers' }).waitFor();
    await screen(page, 'refused');
    await page.getByLabel('Customer ids', { exact: true }).fill(grace.id);
    await page.locator('.audience-reach[data-recipients="1"]').waitFor();

    await page.getByRole('radio', { name: 'At a time' }).check();
    const inThreeMinutes = await page.evaluate(() => {
      const d = new Date(Date.now() + 3 * 60_000);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    });
    await page.getByLabel('Send at', { exact: true }).fill(inThreeMinutes);
    await page.getByRole('button', { name: 'Schedule' }).click();
    const item = announcement(page, 'Later news');
    await item.and(page.locator('[data-status=scheduled]')).waitFor();
    await item.getByText(/^Scheduled for \d\d:\d\d/).waitFor();
    const stored = (await api().get('/v1/announcements')).items[0];
    expect(stored.status).toBe('scheduled');
    expect(Date.parse(stored.send_at) - Date.now()).toBeGreaterThan(60_000);
    await screen(page, 'scheduled');

    page.once('dialog', (d) => void d.accept());
    await item.getByRole('button', { name: 'Cancel Later news' }).click();
    await item.and(page.locator('[data-status=cancelled]')).waitFor();
    await item.getByText('Cancelled', { exact: true }).waitFor();
    expect(await item.getByRole('button').count()).toBe(0);
    expect((await api().get(`/v1/announcements/${stored.id}`)).status).toBe('cancelled');
    await screen(page, 'cancelled');
  });
});
