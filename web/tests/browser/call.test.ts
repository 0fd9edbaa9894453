// Video calls in Chromium against confer-local (docs/calls.md): an agent at a desktop and a
// customer on a phone, each with Chromium's fake camera and microphone, call each other over
// WebRTC signalled through Confer's WebSocket. What flows is read from each page's own
// RTCPeerConnection.getStats(), and every screen is checked with axe-core and photographed.

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, person, resetScreens, screen, screenshot, Server, startStack, stopStack, type Person } from './harness';
import type { Browser } from 'playwright-core';

const PASSWORD = 'correct horse battery staple';
const MEDIA = ['camera', 'microphone'];

let server: Server;
let browser: Browser;
/**
 * The customer's own browser: two pages of one Chromium share its fake camera, whose capture
 * size the first to open it fixes, where two people's browsers each have their own.
 */
let customerBrowser: Browser;
let dataDir: string;
let agent: Person;
let customer: Person;
const s = { customerId: '', sessionId: '' };
/** What the pages measured, for the run's log. */
const measured: Record<string, unknown> = {};

/**
 * Keeps each RTCPeerConnection the page makes, so the test reads its stats itself (injected by
 * the driver before the page's own scripts; the page's CSP is not involved).
 */
async function watchConnections(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const Original = window.RTCPeerConnection;
    const all: RTCPeerConnection[] = [];
    (window as unknown as { __connections: RTCPeerConnection[] }).__connections = all;
    window.RTCPeerConnection = class extends Original {
      constructor(config?: RTCConfiguration) {
        super(config);
        all.push(this);
      }
    } as typeof RTCPeerConnection;
  });
}

interface Flow {
  sent: { width: number; height: number; fps: number } | null;
  received: { width: number; height: number; fps: number; framesDecoded: number } | null;
}

/** The video going out and coming in on the page's open connections, from getStats(). */
async function flow(page: Page): Promise<Flow> {
  return page.evaluate(async () => {
    const all = (window as unknown as { __connections: RTCPeerConnection[] }).__connections ?? [];
    const out: Flow = { sent: null, received: null };
    for (const pc of all) {
      if (pc.connectionState !== 'connected') continue;
      const report = await pc.getStats();
      report.forEach((r: Record<string, number | string>) => {
        if (r.kind !== 'video' || !r.frameWidth) return;
        if (r.type === 'outbound-rtp') out.sent = { width: +r.frameWidth, height: +r.frameHeight, fps: +(r.framesPerSecond ?? 0) };
        if (r.type === 'inbound-rtp') {
          out.received = { width: +r.frameWidth, height: +r.frameHeight, fps: +(r.framesPerSecond ?? 0), framesDecoded: +(r.framesDecoded ?? 0) };
        }
      });
    }
    return out;
  });
}

/** Waits until the page sends and receives video at this size, with frames arriving; returns what it measured. */
async function expectFlow(page: Page, width: number, height: number, what: string): Promise<Flow> {
  let last: Flow = { sent: null, received: null };
  const deadline = Date.now() + 40_000;
  while (Date.now() < deadline) {
    last = await flow(page);
    const ok = (m: { width: number; height: number; fps: number } | null) => !!m && m.width === width && m.height === height && m.fps > 0;
    if (ok(last.sent) && ok(last.received) && (last.received?.framesDecoded ?? 0) > 10) {
      measured[what] = last;
      return last;
    }
    await page.waitForTimeout(500);
  }
  const local = await page.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>('.tile-local video');
    const t = (v?.srcObject as MediaStream | null)?.getVideoTracks()[0];
    return { settings: t?.getSettings(), enabled: t?.enabled, readyState: t?.readyState, video: [v?.videoWidth, v?.videoHeight] };
  });
  throw new Error(`${what}: expected ${width}×${height} both ways, measured ${JSON.stringify(last)}; own camera ${JSON.stringify(local)}`);
}

const panel = (page: Page) => page.getByRole('region', { name: 'Video call' });

async function callLines(page: Page): Promise<string[]> {
  return page.locator('ol.messages > li.kind-call').allInnerTexts();
}

/** Presses Tab until the focused control is called `name`; false when it is never reached. */
async function tabTo(page: Page, name: string, presses = 60): Promise<boolean> {
  for (let i = 0; i < presses; i++) {
    await page.keyboard.press('Tab');
    const here = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      const label = (el as HTMLSelectElement | null)?.labels?.[0]?.textContent;
      return (el?.getAttribute('aria-label') ?? label ?? el?.textContent ?? '').trim();
    });
    if (here === name) return true;
  }
  return false;
}

beforeAll(async () => {
  resetScreens('call');
  ({ server, browser, dataDir } = await startStack({ tenant: 'acme', username: 'ann', password: PASSWORD }));
  const api = server.api(server.token('acme', 'agent', 'ann'));
  const ada = await api.post('/v1/customers', { name: 'Ada Lovelace', email: 'ada@example.com' });
  s.customerId = ada.id;
  const session = await api.post('/v1/sessions', { customer_id: ada.id, subject: 'Camera setup' });
  s.sessionId = session.id;
  const invitation = await api.post(`/v1/customers/${ada.id}/invitations`, {});

  agent = await person(browser, server.base, { permissions: MEDIA });
  await watchConnections(agent.page);
  await agent.page.goto('/');
  await agent.page.getByLabel('Workspace', { exact: true }).fill('acme');
  await agent.page.getByLabel('Username', { exact: true }).fill('ann');
  await agent.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await agent.page.getByRole('button', { name: 'Sign in' }).click();
  await agent.page.getByRole('heading', { name: 'Open sessions', level: 1 }).waitFor();
  await agent.page.goto(`/#/sessions/${s.sessionId}`);
  await agent.page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();

  customerBrowser = await launchBrowser();
  customer = await person(customerBrowser, server.base, { phone: true, permissions: MEDIA });
  await watchConnections(customer.page);
  await customer.page.goto(server.base + invitation.join_path);
  await customer.page.getByRole('heading', { name: 'Your conversation with acme' }).waitFor();
  await customer.page.locator('.conn[data-state=open]').waitFor();
  await agent.page.getByText('Ada Lovelace is online').waitFor();
});

afterAll(async () => {
  for (const [what, f] of Object.entries(measured) as [string, Flow][]) {
    const m = (x: { width: number; height: number; fps: number } | null) => (x ? `${x.width}×${x.height} at ${x.fps} fps` : 'nothing');
    console.log(`${what}: sends ${m(f.sent)}, receives ${m(f.received)}`);
  }
  await customerBrowser?.close();
  await stopStack({ server, browser, dataDir });
});

describe('video calls', () => {
  it('the agent starts a 720p call, the customer accepts, and 1280×720 flows both ways', async () => {
    await screen(agent.page, 'agent-before-call');
    await agent.page.getByLabel('Video quality').selectOption('720p');
    await agent.page.getByRole('button', { name: 'Start video call' }).click();
    await panel(agent.page).waitFor();
    await panel(agent.page).getByText('Calling…').waitFor();
    // The own camera shows at once.
    await expect.poll(() => agent.page.locator('.tile-local video').evaluate((v: HTMLVideoElement) => v.videoWidth)).toBe(1280);
    await screen(agent.page, 'agent-calling');

    const incoming = customer.page.getByRole('group', { name: 'Incoming video call' });
    await incoming.getByText('ann (acme) is calling you').waitFor();
    await screen(customer.page, 'customer-incoming');
    await incoming.getByRole('button', { name: 'Accept' }).click();

    await panel(customer.page).getByText('Connected with ann (acme)').waitFor({ timeout: 20_000 });
    await panel(agent.page).getByText('Connected with Ada Lovelace').waitFor({ timeout: 20_000 });
    const agentFlow = await expectFlow(agent.page, 1280, 720, '720p call, agent');
    const customerFlow = await expectFlow(customer.page, 1280, 720, '720p call, customer');
    expect(agentFlow.received!.fps).toBeGreaterThan(5);
    expect(customerFlow.received!.fps).toBeGreaterThan(5);
    // The pages show the same measures.
    await expect.poll(() => agent.page.locator('.call-stats').getAttribute('data-received'), { timeout: 10_000 }).toBe('1280x720');
    await expect.poll(() => customer.page.locator('.call-stats').getAttribute('data-sent'), { timeout: 10_000 }).toBe('1280x720');
    await expect.poll(() => panel(agent.page).locator('.call-received').innerText(), { timeout: 10_000 }).toMatch(/^1280×720 · \d+ fps$/);
    await screen(agent.page, 'agent-in-call-720p');
    await screen(customer.page, 'customer-in-call-720p');

    // The chat stays usable during the call, both ways.
    await customer.page.getByRole('textbox', { name: 'Message' }).fill('I can see you!');
    await customer.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await agent.page.locator('ol.messages > li', { hasText: 'I can see you!' }).waitFor();
    await agent.page.getByRole('textbox', { name: 'Message' }).fill('Great, me too.');
    await agent.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await customer.page.locator('ol.messages > li', { hasText: 'Great, me too.' }).waitFor();

    // Mute and camera off, and back.
    await panel(agent.page).getByRole('button', { name: 'Mute' }).click();
    await panel(agent.page).getByRole('button', { name: 'Unmute' }).waitFor();
    await panel(agent.page).getByRole('button', { name: 'Stop video' }).click();
    await panel(agent.page).getByRole('button', { name: 'Start video' }).waitFor();
    await screenshot(agent.page, 'agent-muted-camera-off');
    await panel(agent.page).getByRole('button', { name: 'Unmute' }).click();
    await panel(agent.page).getByRole('button', { name: 'Start video' }).click();
    await panel(agent.page).getByRole('button', { name: 'Mute' }).waitFor();

    // The screen shared in place of the camera (getDisplayMedia, the same sender), then the camera again.
    const ownSurface = () =>
      agent.page.locator('.tile-local video').evaluate((v: HTMLVideoElement) => {
        const settings = (v.srcObject as MediaStream | null)?.getVideoTracks()[0]?.getSettings() as (MediaTrackSettings & { displaySurface?: string }) | undefined;
        return settings?.displaySurface ?? 'camera';
      });
    await panel(agent.page).getByRole('button', { name: 'Share screen' }).click();
    await panel(agent.page).getByRole('button', { name: 'Stop sharing' }).waitFor();
    expect(await ownSurface()).toBe('monitor');
    const decodedBefore = (await flow(customer.page)).received?.framesDecoded ?? 0;
    await expectFlow(customer.page, 1280, 720, '720p call, agent sharing the screen, customer');
    await expect.poll(async () => (await flow(customer.page)).received?.framesDecoded ?? 0, { timeout: 10_000 }).toBeGreaterThan(decodedBefore + 10);
    await screenshot(agent.page, 'agent-sharing-screen');
    await panel(agent.page).getByRole('button', { name: 'Stop sharing' }).click();
    await panel(agent.page).getByRole('button', { name: 'Share screen' }).waitFor();
    expect(await ownSurface()).toBe('camera');

    // The devices there are.
    await panel(agent.page).getByText('Camera and microphone').click();
    await expect.poll(() => panel(agent.page).getByLabel('Camera', { exact: true }).locator('option').count()).toBeGreaterThan(0);
    await screen(agent.page, 'agent-devices');
    await panel(agent.page).getByText('Camera and microphone').click();

    // Ended for everyone: both sides close the call; the history says so.
    agent.page.once('dialog', (d) => void d.accept());
    await panel(agent.page).getByRole('button', { name: 'End for everyone' }).click();
    await panel(agent.page).waitFor({ state: 'hidden' });
    await panel(customer.page).waitFor({ state: 'hidden' });
    await customer.page.getByText(/ann \(acme\) ended the call after/).waitFor();
    await agent.page.locator('ol.messages > li.kind-call[data-event=ended]').waitFor();
    await customer.page.locator('ol.messages > li.kind-call[data-event=ended]').waitFor();
    const lines = await callLines(agent.page);
    expect(lines[0]).toMatch(/^Video call started by you/);
    expect(lines[1]).toMatch(/^Video call ended · \d+ (s|min).* · with Ada Lovelace/);
    expect((await callLines(customer.page))[1]).toMatch(/· with ann \(acme\)/);
    await screen(agent.page, 'agent-call-ended');
    await screen(customer.page, 'customer-call-ended');
    // The history as Confer keeps it.
    const history = await server.api(server.token('acme', 'agent', 'ann')).get(`/v1/sessions/${s.sessionId}/messages?limit=50`);
    const entries = history.items.filter((m: { kind: string }) => m.kind === 'call').map((m: { call: { event: string; quality: string } }) => `${m.call.event} ${m.call.quality}`);
    expect(entries.sort()).toEqual(['ended 720p', 'started 720p']);
  });

  it('a 480p call shows 640×480; changing the quality during the call changes what flows', async () => {
    // Started from the keyboard alone.
    await agent.page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).focus();
    expect(await tabTo(agent.page, 'Video quality'), 'the quality is reachable with Tab').toBe(true);
    // The last choice stays; the arrow keys choose another.
    expect(await agent.page.getByLabel('Video quality').inputValue()).toBe('720p');
    await agent.page.keyboard.press('ArrowUp');
    expect(await agent.page.getByLabel('Video quality').inputValue()).toBe('480p');
    expect(await tabTo(agent.page, 'Start video call', 1), 'the start button comes next').toBe(true);
    await agent.page.keyboard.press('Enter');
    await panel(agent.page).waitFor();
    await customer.page.getByRole('group', { name: 'Incoming video call' }).getByRole('button', { name: 'Accept' }).click();
    await expectFlow(agent.page, 640, 480, '480p call, agent');
    await expectFlow(customer.page, 640, 480, '480p call, customer');
    await expect.poll(() => customer.page.locator('.call-stats').getAttribute('data-received'), { timeout: 10_000 }).toBe('640x480');
    await screen(customer.page, 'customer-in-call-480p');

    // The customer asks for 720p: both browsers apply it to what they send.
    await panel(customer.page).getByLabel('Quality').selectOption('720p');
    await panel(agent.page).getByText('Ada Lovelace changed the quality to 720p.').waitFor();
    expect(await panel(agent.page).getByLabel('Quality').inputValue()).toBe('720p');
    await expectFlow(agent.page, 1280, 720, '480p call raised to 720p, agent');
    await expectFlow(customer.page, 1280, 720, '480p call raised to 720p, customer');

    // Every control of the call is reachable from the keyboard, in order.
    await panel(agent.page).getByRole('heading', { name: 'Video call' }).click();
    for (const name of ['Mute', 'Stop video', 'Share screen', 'Leave call', 'End for everyone']) {
      expect(await tabTo(agent.page, name, 12), `${name} is reachable with Tab`).toBe(true);
    }

    // The customer hangs up; the agent is left alone and hangs up too, which ends the call.
    await panel(customer.page).getByRole('button', { name: 'Leave call' }).click();
    await panel(customer.page).waitFor({ state: 'hidden' });
    await panel(agent.page).getByText('Ada Lovelace left the call.').waitFor();
    await panel(agent.page).getByText('Everyone else left the call.').waitFor();
    await screen(agent.page, 'agent-alone-in-call');
    // The customer could join again while it goes on.
    await customer.page.getByRole('button', { name: 'Join the call' }).waitFor();
    await screen(customer.page, 'customer-call-going-on');
    await panel(agent.page).getByRole('button', { name: 'Leave call' }).click();
    await panel(agent.page).waitFor({ state: 'hidden' });
    await customer.page.getByRole('button', { name: 'Join the call' }).waitFor({ state: 'detached' });
    await expect.poll(async () => (await callLines(agent.page)).length).toBe(4);
    expect((await callLines(agent.page))[3]).toMatch(/^Video call ended · .* · with Ada Lovelace/);
  });

  it('the customer declines; the caller is told and the call ends unanswered', async () => {
    await agent.page.getByRole('button', { name: 'Start video call' }).click();
    await panel(agent.page).waitFor();
    const incoming = customer.page.getByRole('group', { name: 'Incoming video call' });
    await incoming.getByRole('button', { name: 'Decline' }).click();
    await incoming.waitFor({ state: 'detached' });
    await agent.page.locator('.call-banner').getByText('Ada Lovelace declined the call.').waitFor();
    await panel(agent.page).waitFor({ state: 'hidden' });
    await expect.poll(async () => (await callLines(agent.page)).length).toBe(6);
    expect((await callLines(agent.page))[5]).toMatch(/^Video call ended · .* · not answered/);
    await screen(agent.page, 'agent-call-declined');
  });

  it('the customer calls while the agent is on another page; the list shows it', async () => {
    await agent.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await agent.page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    await customer.page.getByRole('button', { name: 'Start video call' }).click();
    await panel(customer.page).getByText('Calling…').waitFor();
    const item = agent.page.locator(`.sidebar li[data-session="${s.sessionId}"]`);
    await item.getByText('Call', { exact: true }).waitFor();
    await screen(agent.page, 'agent-call-waiting-in-list');
    await item.getByRole('link').click();
    const incoming = agent.page.getByRole('group', { name: 'Incoming video call' });
    await incoming.getByText('Ada Lovelace is calling you').waitFor();
    await incoming.getByRole('button', { name: 'Accept' }).click();
    await expectFlow(agent.page, 640, 480, 'customer’s 480p call, agent');
    await item.getByText('Call', { exact: true }).waitFor({ state: 'detached' });
    customer.page.once('dialog', (d) => void d.accept());
    await panel(customer.page).getByRole('button', { name: 'End for everyone' }).click();
    await panel(agent.page).waitFor({ state: 'hidden' });
    await agent.page.locator('.call-banner').getByText(/Ada Lovelace ended the call after/).waitFor();
    await expect.poll(async () => (await callLines(agent.page)).length).toBe(8);
    expect((await callLines(agent.page))[6]).toMatch(/^Video call started by Ada Lovelace/);
  });

  it('a refused camera is explained, and no call is left behind', async () => {
    const token = server.token('acme', 'agent', 'ann');
    const invitation = await server.api(token).post(`/v1/customers/${s.customerId}/invitations`, {});
    // A browser whose person says no when asked for the camera and microphone.
    const refusing = await launchBrowser({ refuseMedia: true });
    const refused = await person(refusing, server.base, { phone: true, permissions: [] });
    await refused.page.goto(server.base + invitation.join_path);
    await refused.page.getByRole('heading', { name: 'Your conversation with acme' }).waitFor();
    await refused.page.getByRole('button', { name: 'Start video call' }).click();
    const alert = refused.page.getByRole('alert').filter({ hasText: 'Confer is not allowed to use your camera and microphone' });
    await alert.waitFor();
    await screen(refused.page, 'customer-camera-refused');
    // Nothing started: the agent gets no call.
    await expect(server.api(token).get(`/v1/sessions/${s.sessionId}/call`)).rejects.toThrow(/404/);
    expect(await agent.page.getByRole('group', { name: 'Incoming video call' }).count()).toBe(0);
    expect(refused.problems).toEqual([]);
    await refusing.close();
  });

  it('no page broke its Content-Security-Policy or threw', () => {
    expect(agent.problems).toEqual([]);
    expect(customer.problems).toEqual([]);
  });
});
