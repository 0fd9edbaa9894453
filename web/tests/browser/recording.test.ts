// Recording a call in Chromium against confer-local (docs/recordings.md): an agent at a desktop
// and a customer on a phone are in a call; the agent records a few seconds of it. Locally the
// agent's browser records each participant's stream with MediaRecorder and uploads its chunks;
// confer-local puts the tracks together, mixes them and transcribes them. Each browser's fake
// microphone speaks a sentence (espeak-ng, when it is installed). What the transcript says
// depends on the speech engine, so the test holds the screens' states, not the words.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDataDir, launchBrowser, person, removeDir, resetScreens, screen, screenshot, Server, type Person } from './harness';

const PASSWORD = 'correct horse battery staple';
const MEDIA = ['camera', 'microphone'];

let server: Server;
let dataDir: string;
let agentBrowser: Browser;
let customerBrowser: Browser;
let agent: Person;
let customer: Person;
const s = { customerId: '', sessionId: '', recordingId: '' };

/** Chromium's flag that makes its fake microphone say `text` (none when espeak-ng is missing). */
function speaking(name: string, text: string): string[] {
  try {
    const file = join(dataDir, `${name}.wav`);
    execFileSync('espeak-ng', ['-s', '150', '-w', file, text], { stdio: 'ignore' });
    return [`--use-file-for-fake-audio-capture=${file}`];
  } catch {
    return [];
  }
}

/** Asks `fn` every half second until it answers something. */
async function poll<T>(fn: () => Promise<T | null | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const panel = (page: Page) => page.getByRole('region', { name: 'Video call' });
const headMark = (page: Page) => page.locator('.chat-head .rec-badge-head');

beforeAll(async () => {
  resetScreens('recording');
  dataDir = freshDataDir();
  server = new Server(dataDir);
  await server.start();
  server.addAgent('acme', 'ann', PASSWORD);
  const api = server.api(server.token('acme', 'agent', 'ann'));
  const ada = await api.post('/v1/customers', { name: 'Ada Lovelace', email: 'ada@example.com' });
  s.customerId = ada.id;
  const session = await api.post('/v1/sessions', { customer_id: ada.id, subject: 'Delivery' });
  s.sessionId = session.id;
  const invitation = await api.post(`/v1/customers/${ada.id}/invitations`, {});

  agentBrowser = await launchBrowser({ args: speaking('agent', 'Hello, this is Ann from support. How can I help you today?') });
  agent = await person(agentBrowser, server.base, { permissions: MEDIA });
  await agent.page.goto('/');
  await agent.page.getByLabel('Workspace', { exact: true }).fill('acme');
  await agent.page.getByLabel('Username', { exact: true }).fill('ann');
  await agent.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await agent.page.getByRole('button', { name: 'Sign in' }).click();
  await agent.page.getByRole('heading', { name: 'Open sessions', level: 1 }).waitFor();
  await agent.page.goto(`/#/sessions/${s.sessionId}`);
  await agent.page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();

  customerBrowser = await launchBrowser({ args: speaking('customer', 'My parcel did not arrive. It was sent last week.') });
  customer = await person(customerBrowser, server.base, { phone: true, permissions: MEDIA });
  await customer.page.goto(server.base + invitation.join_path);
  await customer.page.getByRole('heading', { name: 'Your conversation with acme' }).waitFor();
  await customer.page.locator('.conn[data-state=open]').waitFor();
  await agent.page.getByText('Ada Lovelace is online').waitFor();
}, 120_000);

afterAll(async () => {
  await customerBrowser?.close();
  await agentBrowser?.close();
  await server?.stop();
  if (dataDir) removeDir(dataDir);
});

describe('recording a call', () => {
  it('the agent records part of a call; everyone in it sees that it is recorded', async () => {
    await agent.page.getByRole('button', { name: 'Start video call' }).click();
    await customer.page.getByRole('group', { name: 'Incoming video call' }).getByRole('button', { name: 'Accept' }).click();
    await panel(agent.page).getByText('Connected with Ada Lovelace').waitFor({ timeout: 20_000 });
    await panel(customer.page).getByText('Connected with ann (acme)').waitFor({ timeout: 20_000 });
    // Nobody sees it recorded yet; only the agent may record.
    expect(await headMark(agent.page).isVisible()).toBe(false);
    expect(await panel(customer.page).getByRole('button', { name: 'Record', exact: true }).count()).toBe(0);

    await panel(agent.page).getByRole('button', { name: 'Record', exact: true }).click();
    await panel(agent.page).getByRole('button', { name: 'Stop recording', exact: true }).waitFor();
    await panel(agent.page).locator('.rec-badge-call').getByText('Recording').waitFor();
    await headMark(customer.page).waitFor();
    expect((await headMark(customer.page).textContent())?.replace(/\s+/g, ' ').trim()).toBe('● Recording');
    await panel(customer.page).getByText('ann (acme) started recording the call.').waitFor();
    await agent.page.locator('ol.messages > li.kind-call[data-event=recording_started]').getByText('Recording started by you').waitFor();
    await customer.page.locator('ol.messages > li.kind-call[data-event=recording_started]').getByText('Recording started by ann (acme)').waitFor();
    await screen(agent.page, 'agent-recording');
    await screen(customer.page, 'customer-sees-recording');

    // About six seconds of the call.
    await agent.page.waitForTimeout(6500);
    await panel(agent.page).getByRole('button', { name: 'Stop recording', exact: true }).click();
    await panel(agent.page).getByRole('button', { name: 'Record', exact: true }).waitFor({ timeout: 60_000 });
    await headMark(customer.page).waitFor({ state: 'hidden' });
    await headMark(agent.page).waitFor({ state: 'hidden' });
    expect(await panel(agent.page).locator('.call-record-line .form-error').count()).toBe(0);
    const stopped = agent.page.locator('ol.messages > li.kind-call[data-event=recording_stopped]');
    await stopped.getByText('Recording stopped by you').waitFor();
    await customer.page.locator('ol.messages > li.kind-call[data-event=recording_stopped]').getByText('Recording stopped by ann (acme)').waitFor();
    // A customer's history does not offer the recording (the business does not share it by default).
    expect(await customer.page.getByRole('link', { name: 'Open the recording' }).count()).toBe(0);

    agent.page.once('dialog', (d) => void d.accept());
    await panel(agent.page).getByRole('button', { name: 'End for everyone' }).click();
    await panel(agent.page).waitFor({ state: 'hidden' });

    // Confer has it: both participants' tracks, put together and mixed.
    const api = server.api(server.token('acme', 'agent', 'ann'));
    const r = await poll(
      async () => {
        const page = await api.get(`/v1/customers/${s.customerId}/recordings`);
        const r = page.items[0];
        return r && (r.status === 'available' || r.status === 'failed') ? r : null;
      },
      'the recording to be available',
      90_000,
    );
    expect(r.status, JSON.stringify(r)).toBe('available');
    s.recordingId = r.id;
    expect(r.tracks.map((t: { track: string }) => t.track).sort()).toEqual(['agent.ann', `customer.${s.customerId}`]);
    expect(r.media.map((m: { track: string }) => m.track)).toContain('mixed');
    expect(r.duration_ms).toBeGreaterThan(3000);

    await stopped.getByRole('link', { name: 'Open the recording' }).click();
    await agent.page.locator(`.recording-page[data-status=available]`).waitFor();
  }, 240_000);

  it('the recording plays beside its transcript', async () => {
    const page = agent.page;
    await page.getByRole('heading', { name: /^Recording of / }).waitFor();
    const video = page.locator('video.recording-player');
    await video.waitFor();
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    const duration = await video.evaluate((v: HTMLVideoElement) => v.duration);
    expect(Number.isFinite(duration) ? duration : 999).toBeGreaterThan(3);

    // Transcribing takes a while; the screen says where it stands until it settles.
    const state = await poll(
      async () => {
        const state = await page.locator('.recording-page').getAttribute('data-transcript');
        return state === 'ready' || state === 'unavailable' || state === 'failed' ? state : null;
      },
      'the transcript to settle',
      150_000,
    );
    const card = page.getByRole('region', { name: 'Transcript' });
    console.log(`transcript: ${state}`);
    if (state !== 'ready') {
      await expect.poll(() => card.locator('.transcript-status').innerText()).toMatch(/No transcript|Transcription failed/);
      await screen(page, 'recording-without-transcript');
      return;
    }
    await expect.poll(() => card.locator('.transcript-status').innerText(), { timeout: 15_000 }).toMatch(/turns?\.|Nobody was heard/);
    const turns = card.locator('li.turn');
    const count = await turns.count();
    console.log(`transcript turns: ${count}: ${(await turns.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ')).join(' | ')}`);
    for (let i = 0; i < count; i++) {
      expect(await turns.nth(i).locator('.turn-time').innerText()).toMatch(/^\d\d:\d\d$/);
      expect((await turns.nth(i).locator('.turn-speaker').innerText()).length).toBeGreaterThan(0);
    }
    await screen(page, 'recording-transcript');

    if (count > 0) {
      // A turn plays the recording from where it was said, and is marked while it is spoken.
      const last = turns.nth(count - 1);
      await last.getByRole('button').click();
      await expect.poll(() => last.getAttribute('aria-current'), { timeout: 10_000 }).toBe('true');
      const at = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
      expect(at).toBeGreaterThanOrEqual(0);
      await video.evaluate((v: HTMLVideoElement) => v.pause());
      await screenshot(page, 'recording-turn-playing');

      // Agents name the speakers.
      await card.getByText('Name the speakers').click();
      const first = card.locator('.speaker-form input').first();
      await first.fill('Ann from support');
      await card.getByRole('button', { name: 'Save names' }).click();
      await card.locator('.turn-speaker', { hasText: 'Ann from support' }).first().waitFor();
    }

    // Without a translation service, asking for Spanish says so.
    await card.getByLabel('Language').selectOption('es');
    await card.getByRole('alert').filter({ hasText: /Spanish/ }).waitFor();
    await screenshot(page, 'recording-translation-unavailable');
    await card.getByLabel('Language').selectOption('');
    await expect.poll(() => card.locator('.transcript-status').innerText(), { timeout: 15_000 }).toMatch(/turns?\.|Nobody was heard/);

    // The export is fetched with the agent's token and saved as a file.
    const download = page.waitForEvent('download');
    await card.getByRole('button', { name: 'Download as TXT' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.txt$/);
    await screen(page, 'recording-transcript-named');
  }, 240_000);

  it('the customer’s page lists the recording', async () => {
    await agent.page.getByRole('link', { name: 'Customer details' }).click();
    const card = agent.page.getByRole('region', { name: 'Recordings' });
    const item = card.locator(`li[data-recording="${s.recordingId}"]`);
    await item.waitFor();
    expect(await item.locator('.rec-status').innerText()).toBe('Available');
    expect(await item.innerText()).toMatch(/with (Ann|ann)/);
    await screen(agent.page, 'customer-page-recordings');
  });

  it('no page broke its Content-Security-Policy or threw', () => {
    expect(agent.problems).toEqual([]);
    expect(customer.problems).toEqual([]);
  });
});
