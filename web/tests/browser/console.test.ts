// The console and the customer chat in Chromium against confer-local: an agent and a customer
// in two browser contexts, every screen checked with axe-core and photographed.

import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makePng,
  resetScreens,
  person,
  screen,
  screenshot,
  Server,
  startStack,
  startTranslator,
  stopStack,
  waitFor,
  type Person,
} from './harness';

const PASSWORD = 'correct horse battery staple';

let server: Server;
let browser: Browser;
let dataDir: string;
let agent: Person;
let customer: Person;
let translator: Awaited<ReturnType<typeof startTranslator>>;
const s = { adaId: '', graceId: '', sessionId: '', invitation: '', shortLived: '', shortLivedUntil: 0 };

/** The seqs of the messages a page shows, in the order shown. */
async function shownSeqs(page: Page): Promise<number[]> {
  return page.$$eval('ol.messages:not(.pending) > li[data-seq]', (lis) => lis.map((li) => Number((li as HTMLElement).dataset.seq)));
}

async function expectNoGapsOrRepeats(page: Page): Promise<number[]> {
  const seqs = await shownSeqs(page);
  expect(new Set(seqs).size, `repeats in ${seqs}`).toBe(seqs.length);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i], `order/gap in ${seqs}`).toBe(seqs[i - 1] + 1);
  return seqs;
}

function message(page: Page, text: string) {
  return page.locator('ol.messages:not(.pending) > li', { hasText: text });
}

async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  await message(page, text).waitFor();
}

beforeAll(async () => {
  resetScreens();
  translator = await startTranslator();
  ({ server, browser, dataDir } = await startStack({ tenant: 'acme', username: 'ann', password: PASSWORD }, { CONFER_TRANSLATE_URL: translator.url }));
});

afterAll(async () => {
  await stopStack({ server, browser, dataDir });
  await translator?.close();
});

describe('the web client', () => {
  it('is served at / with a Content-Security-Policy that allows no inline script', async () => {
    const res = await fetch(`${server.base}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    // Client routes are the page; API paths stay the API's.
    expect((await fetch(`${server.base}/customers/anything`)).headers.get('content-type')).toContain('text/html');
    const api = await fetch(`${server.base}/v1/nothing`);
    expect(api.status).toBe(404);
    expect((await api.json()).error.code).toBe('route_not_found');
  });

  it('an agent signs in with a password', async () => {
    agent = await person(browser, server.base);
    const page = agent.page;
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in to Confer' }).waitFor();
    await screen(page, 'sign-in');
    await page.getByLabel('Workspace', { exact: true }).fill('acme');
    await page.getByLabel('Username', { exact: true }).fill('ann');
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The API's refusal, in words.
    await page.getByRole('alert').filter({ hasText: /./ }).first().waitFor();
    await screenshot(page, 'sign-in-refused');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Open sessions', level: 1 }).waitFor();
    await page.locator('.conn[data-state=open]').waitFor();
    await screen(page, 'agent-inbox-empty');
  });

  it('creates, finds and edits customers', async () => {
    const page = agent.page;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'New customer' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Ada Lovelace');
    await page.getByLabel('Email', { exact: true }).fill('ada@example.com');
    await screen(page, 'customer-new');
    await page.getByRole('button', { name: 'Create customer' }).click();
    await page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();
    s.adaId = page.url().split('/').pop()!;
    expect(s.adaId).toMatch(/^cus_/);

    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Phone', { exact: true }).fill('+44 20 7946 0000');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();
    await page.locator('dd', { hasText: '+44 20 7946 0000' }).waitFor();
    await screen(page, 'customer-page');

    const token = server.token('acme', 'agent', 'ann');
    const grace = await server.api(token).post('/v1/customers', { name: 'Grace Hopper', email: 'grace@navy.example' });
    s.graceId = grace.id;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('cell', { name: 'Ada Lovelace' }).waitFor();
    await page.getByLabel('Search customers', { exact: true }).fill('NAVY');
    await page.getByRole('status').filter({ hasText: 'found for' }).waitFor();
    expect(await page.locator('tbody tr').allInnerTexts()).toEqual([expect.stringContaining('Grace Hopper')]);
    await page.getByLabel('Search customers', { exact: true }).fill('nobody-at-all');
    await page.getByText('No customer’s name or email contains').waitFor();
    await page.getByLabel('Search customers', { exact: true }).fill('ada');
    await page.getByRole('cell', { name: 'Ada Lovelace' }).waitFor();
    await screen(page, 'customers-search');
  });

  it('opens a session for a customer and creates an invitation link', async () => {
    const page = agent.page;
    await page.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.getByLabel('Subject (optional)', { exact: true }).fill('Damaged parcel');
    await page.getByRole('button', { name: 'Open a new session' }).click();
    await page.waitForURL(/#\/sessions\/ses_/);
    await page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();
    s.sessionId = page.url().split('/').pop()!;
    expect(s.sessionId).toMatch(/^ses_/);
    await page.getByText('No messages yet').waitFor();
    // The new session is in the list beside, live.
    await page.locator(`.sidebar li[data-session="${s.sessionId}"]`).waitFor();
    await screen(page, 'agent-chat-empty');

    await page.getByRole('link', { name: 'Customer details' }).click();
    await page.getByRole('button', { name: 'Create an invitation link' }).click();
    const link = page.getByLabel('Invitation link', { exact: true });
    await link.waitFor();
    s.invitation = await link.inputValue();
    expect(s.invitation).toMatch(new RegExp(`^${server.base}/#/join/acme\\.`));
    await page.getByRole('button', { name: 'Copy link' }).click();
    await page.getByText('Copied.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(s.invitation);
    await screen(page, 'customer-invitation');
    // A second link with the shortest lifetime there is, opened once it has expired (below).
    const short = await server.api(server.token('acme', 'agent', 'ann')).post<{ join_path: string }>(`/v1/customers/${s.adaId}/invitations`, {
      valid_for_seconds: 60,
    });
    s.shortLived = `${server.base}${short.join_path}`;
    s.shortLivedUntil = Date.now() + 60_000;
    await page.goto(`/#/sessions/${s.sessionId}`);
    await page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();
  });

  it('the customer opens the link on a phone; the secret leaves the address', async () => {
    // A customer who reads Spanish: their browser says so.
    customer = await person(browser, server.base, { phone: true, locale: 'es-ES' });
    const page = customer.page;
    await page.goto(s.invitation);
    await page.getByRole('heading', { name: 'Your conversation with acme' }).waitFor();
    const secret = s.invitation.split('/join/')[1];
    expect(page.url()).not.toContain(secret);
    // The tab's history holds the blank page it opened with and this one: the join address was replaced.
    expect(await page.evaluate(() => history.length)).toBe(2);
    await page.getByText('No messages yet').waitFor();
    await page.locator('.conn[data-state=open]').waitFor();
    await screen(page, 'customer-chat-empty');
  });

  it('they chat both ways with typing, presence and read receipts', async () => {
    await agent.page.getByText('Ada Lovelace is online').waitFor();
    const box = customer.page.getByRole('textbox', { name: 'Message' });
    await box.pressSequentially('Hello, my parcel arrived damaged', { delay: 20 });
    await agent.page.getByRole('status').filter({ hasText: 'Ada Lovelace is typing…' }).waitFor();
    await screenshot(agent.page, 'agent-sees-typing');
    await box.press('Enter');
    await message(agent.page, 'Hello, my parcel arrived damaged').waitFor();
    // The agent's page is open: the customer's message is read there, and the tick says so.
    await message(customer.page, 'Hello, my parcel arrived damaged').locator('.ticks[data-status=read]').waitFor();

    await send(agent.page, 'Sorry to hear that — could you send a photo?');
    await message(customer.page, 'could you send a photo?').waitFor();
    await message(agent.page, 'could you send a photo?').locator('.ticks[data-status=read]').waitFor();
    // Typing goes out at most every 2 s: someone typing for longer shows again.
    await customer.page.getByRole('textbox', { name: 'Message' }).pressSequentially('Sure, one moment', { delay: 160 });
    await agent.page.getByText('Ada Lovelace is typing…').waitFor();
    await customer.page.getByRole('textbox', { name: 'Message' }).fill('');
    await screen(agent.page, 'agent-chat');
    await screen(customer.page, 'customer-chat');
  });

  it('each reads the other’s messages in their own language', async () => {
    // The agent's browser reads English; the customer's, Spanish.
    const theirs = message(agent.page, 'Hello, my parcel arrived damaged');
    expect(await message(agent.page, 'could you send a photo?').getByRole('button', { name: 'Translate' }).count()).toBe(0);
    await theirs.getByRole('button', { name: 'Translate' }).click();
    await theirs.locator('.translated[lang=en]').getByText('[en] Hello, my parcel arrived damaged').waitFor();
    await theirs.getByText('Translated into English').waitFor();
    const mine = message(customer.page, 'could you send a photo?');
    await mine.getByRole('button', { name: 'Translate' }).click();
    await mine.locator('.translated[lang=es]').getByText('[es] Sorry to hear that — could you send a photo?').waitFor();
    await mine.getByText(/^Translated into español/).waitFor();
    await screen(customer.page, 'customer-reads-a-translation');
    await screenshot(agent.page, 'agent-reads-a-translation');
    expect(translator.calls()).toBe(2);
    // Hidden and shown again without asking anyone; stored, so a reload asks nobody either.
    await theirs.getByRole('button', { name: 'Hide translation' }).click();
    await theirs.locator('.translation').waitFor({ state: 'hidden' });
    await theirs.getByRole('button', { name: 'Translate' }).click();
    await theirs.locator('.translation').waitFor();
    await agent.page.reload();
    const again = message(agent.page, 'Hello, my parcel arrived damaged');
    await again.getByRole('button', { name: 'Translate' }).click();
    await again.getByText('[en] Hello, my parcel arrived damaged').waitFor();
    expect(translator.calls()).toBe(2);
  });

  it('the conversation works from the keyboard alone', async () => {
    const page = customer.page;
    await page.locator('body').focus();
    // Tab from the top of the page to the message box, type, and send with Enter.
    let reached = false;
    for (let i = 0; i < 25 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.getAttribute('placeholder') === 'Write a message…');
    }
    expect(reached, 'the message box is reachable with Tab').toBe(true);
    await page.keyboard.type('Typed without a mouse');
    await page.keyboard.press('Enter');
    await message(agent.page, 'Typed without a mouse').waitFor();
    // Then the record and send buttons, in that order.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Record a voice message');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Send');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Attach files');
  });

  it('an image and a voice message arrive on the other side', async () => {
    const png = await makePng(customer.page, 800, 600);
    await customer.page.locator('input[type=file]').setInputFiles({ name: 'parcel.png', mimeType: 'image/png', buffer: png });
    const image = agent.page.locator('ol.messages > li.kind-image img.thumb');
    await image.waitFor();
    await waitFor(async () => (await image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)) === 320, 'thumbnail', 15_000).catch(
      async () => {
        throw new Error(`thumbnail not loaded: ${await image.evaluate((img: HTMLImageElement) => `${img.src} ${img.naturalWidth}`)}`);
      },
    );
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(320);
    await message(customer.page, '').locator('img.thumb').first().waitFor();
    // Opened from the keyboard; Escape closes it and gives focus back.
    const open = agent.page.getByRole('button', { name: 'Open image parcel.png at full size' });
    await open.focus();
    await agent.page.keyboard.press('Enter');
    const full = agent.page.locator('dialog.lightbox img.full');
    await expect.poll(() => full.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(800);
    await screen(agent.page, 'agent-image-full');
    await agent.page.keyboard.press('Escape');
    await agent.page.locator('dialog.lightbox[open]').waitFor({ state: 'detached' });
    expect(await open.evaluate((el) => el === document.activeElement)).toBe(true);

    // A voice message from the fake microphone.
    await agent.page.getByRole('button', { name: 'Record a voice message' }).click();
    await agent.page.getByText(/Recording 0:0/).waitFor();
    await screenshot(agent.page, 'agent-recording');
    await agent.page.waitForTimeout(2500);
    await agent.page.getByRole('button', { name: 'Stop and send' }).click();
    const voice = customer.page.locator('ol.messages > li.kind-audio');
    await voice.waitFor({ timeout: 20_000 });
    const audio = voice.locator('audio');
    expect(await audio.getAttribute('aria-label')).toMatch(/^Voice message from ann \(acme\), [1-4] seconds$/);
    await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.readyState), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    await expect(voice.locator('.duration').innerText()).resolves.toMatch(/^0:0[1-4]$/);
    await message(agent.page, '').locator('audio').first().waitFor();
    await screen(customer.page, 'customer-voice-and-image');
  });

  it('files arrive by drag and drop and by paste, as downloads and images', async () => {
    // Dropped on the conversation.
    await agent.page.locator('section.chat').evaluate((section) => {
      const dt = new DataTransfer();
      dt.items.add(new File(['Return label for order 4711\n'], 'return-label.txt', { type: 'text/plain' }));
      section.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
      section.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      section.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const file = customer.page.locator('ol.messages > li.kind-file a.file', { hasText: 'return-label.txt' });
    await file.waitFor({ timeout: 20_000 });
    expect(await file.getAttribute('download')).toBe('return-label.txt');
    const href = (await file.getAttribute('href'))!;
    expect(await (await fetch(href)).text()).toBe('Return label for order 4711\n');

    // Pasted into the message box.
    const png = await makePng(customer.page, 200, 100);
    await customer.page.getByRole('textbox', { name: 'Message' }).evaluate((box, b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, png.toString('base64'));
    await agent.page.getByRole('button', { name: 'Open image pasted.png at full size' }).waitFor({ timeout: 20_000 });
    await screen(agent.page, 'agent-files');
  });

  it('refused uploads are explained', async () => {
    // An "image" that is not one: verification refuses it and says why.
    await customer.page.locator('input[type=file]').setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('MZ not an image at all') });
    const refused = customer.page.locator('li.upload[data-status=failed]');
    await refused.waitFor({ timeout: 20_000 });
    expect(await refused.innerText()).toMatch(/fake\.png was refused: .+/);
    await screen(customer.page, 'customer-upload-refused');
    await refused.getByRole('button', { name: 'Dismiss' }).click();
    // A type that is not allowed is refused before any upload, in the API's words.
    await customer.page.locator('input[type=file]').setInputFiles({ name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<p>hi</p>') });
    await customer.page.locator('li.upload[data-status=failed]').waitFor();
    await customer.page.locator('li.upload[data-status=failed]').getByRole('button', { name: 'Dismiss' }).click();
  });

  it('unread counts in the list follow new messages live', async () => {
    await agent.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await agent.page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    await send(customer.page, 'Are you still there?');
    await send(customer.page, 'The box is soaked too.');
    const badge = agent.page.locator(`.sidebar li[data-session="${s.sessionId}"] .badge`);
    await expect.poll(() => badge.getAttribute('data-unread')).toBe('2');
    expect(await agent.page.title()).toMatch(/^\(2\) /);
    await screen(agent.page, 'agent-unread');
    await agent.page.locator(`.sidebar li[data-session="${s.sessionId}"] a`).click();
    await message(agent.page, 'The box is soaked too.').waitFor();
    await badge.waitFor({ state: 'detached' });
    await message(customer.page, 'The box is soaked too.').locator('.ticks[data-status=read]').waitFor();
  });

  it('survives a server restart and catches up with no gap or repeat', async () => {
    // The agent's page stays away until told (its socket is refused), so what the customer
    // sends meanwhile can only reach it through catch-up.
    let agentBlocked = false;
    let dropNextMessage = false;
    await agent.page.routeWebSocket(/\/ws$/, (ws: WebSocketRoute) => {
      if (agentBlocked) {
        ws.close({ code: 1011, reason: 'blocked by the test' });
        return;
      }
      const upstream = ws.connectToServer();
      upstream.onMessage((frame) => {
        if (dropNextMessage && typeof frame === 'string' && frame.includes('"type":"message"')) {
          dropNextMessage = false;
          return;
        }
        ws.send(frame);
      });
      ws.onMessage((frame) => upstream.send(frame));
    });
    agentBlocked = true;
    const port = server.port;
    await server.stop();
    await agent.page.getByText(/Connection lost|Reconnecting/).first().waitFor();
    await customer.page.getByText(/Connection lost|Reconnecting/).first().waitFor();
    await screen(agent.page, 'agent-reconnecting');
    await screen(customer.page, 'customer-reconnecting');
    // Written while the server is down: waits, then goes out by itself.
    await customer.page.getByRole('textbox', { name: 'Message' }).fill('Written while you were away');
    await customer.page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await customer.page.getByText('Waiting for the connection…').waitFor();

    await server.start(port);
    await customer.page.locator('.conn[data-state=open]').waitFor({ timeout: 30_000 });
    await message(customer.page, 'Written while you were away').waitFor();
    await send(customer.page, 'Missed one');
    await send(customer.page, 'Missed two');
    const before = await shownSeqs(agent.page);
    agentBlocked = false;
    await agent.page.getByRole('button', { name: 'Retry now' }).click().catch(() => undefined);
    await agent.page.locator('.conn[data-state=open]').waitFor({ timeout: 30_000 });
    await message(agent.page, 'Missed two').waitFor();
    const after = await expectNoGapsOrRepeats(agent.page);
    expect(after.length).toBe(before.length + 3);
    await expectNoGapsOrRepeats(customer.page);
    await screen(agent.page, 'agent-after-restart');

    // A frame lost on the way: the next one shows the gap, history fills it.
    dropNextMessage = true;
    await send(customer.page, 'Gap one');
    await send(customer.page, 'Gap two');
    await message(agent.page, 'Gap one').waitFor();
    await message(agent.page, 'Gap two').waitFor();
    await expectNoGapsOrRepeats(agent.page);
    expect(dropNextMessage).toBe(false);
    // And both sides still talk.
    await send(agent.page, 'All caught up.');
    await message(customer.page, 'All caught up.').waitFor();
    await expectNoGapsOrRepeats(customer.page);
  });

  it('a closed session stays readable, and the customer can reopen an earlier one', async () => {
    agent.page.once('dialog', (d) => void d.accept());
    await agent.page.getByRole('button', { name: 'Close session' }).click();
    await agent.page.getByText(/This session was closed/).waitFor();
    await customer.page.getByText(/This session was closed/).waitFor();
    expect(await customer.page.getByRole('textbox', { name: 'Message' }).count()).toBe(0);
    await screen(customer.page, 'customer-session-closed');
    // The agent's list of open sessions no longer has it.
    await agent.page.locator(`.sidebar li[data-session="${s.sessionId}"]`).waitFor({ state: 'detached' });

    // A new session: the customer's page moves to it; the old one is in their list.
    const token = server.token('acme', 'agent', 'ann');
    const second = await server.api(token).post('/v1/sessions', { customer_id: s.adaId, subject: 'Refund' });
    await customer.page.getByText('No messages yet').waitFor();
    await customer.page.getByText('All your conversations (2)').click();
    await customer.page.getByRole('link', { name: /Damaged parcel/ }).click();
    await message(customer.page, 'Hello, my parcel arrived damaged').waitFor({ timeout: 10_000 }).catch(async () => {
      // The page shows the latest messages; older ones come as one scrolls up.
      await customer.page.getByRole('button', { name: 'Load older messages' }).click();
    });
    await message(customer.page, 'All caught up.').waitFor();
    await screen(customer.page, 'customer-earlier-session');
    await customer.page.goto(`/#/chat/${second.id}`);
    await customer.page.getByText('No messages yet').waitFor();
  });

  it('the customer can leave; the tab keeps nothing', async () => {
    const leaving = await person(browser, server.base, { phone: true });
    const token = server.token('acme', 'agent', 'ann');
    const invitation = await server.api(token).post(`/v1/customers/${s.adaId}/invitations`, {});
    await leaving.page.goto(server.base + invitation.join_path);
    await leaving.page.getByRole('heading', { name: 'Your conversation with acme' }).waitFor();
    leaving.page.once('dialog', (d) => void d.accept());
    await leaving.page.getByRole('button', { name: 'Leave' }).click();
    await leaving.page.getByRole('heading', { name: 'You left the chat' }).waitFor();
    expect(await leaving.page.evaluate(() => sessionStorage.length)).toBe(0);
    await screen(leaving.page, 'customer-left');
    await leaving.context.close();
  });

  it('another customer and another tenant see nothing of it', async () => {
    const token = server.token('acme', 'agent', 'ann');
    const invitation = await server.api(token).post(`/v1/customers/${s.graceId}/invitations`, {});
    const grace = await person(browser, server.base, { phone: true });
    await grace.page.goto(server.base + invitation.join_path);
    await grace.page.getByText(/No conversation with acme is open/).waitFor();
    await screen(grace.page, 'other-customer-empty');
    await grace.page.goto(`/#/chat/${s.sessionId}`);
    await grace.page.getByText(/This conversation could not be opened/).waitFor();
    expect(await grace.page.locator('ol.messages > li').count()).toBe(0);
    expect(await grace.page.content()).not.toContain('parcel');
    await screen(grace.page, 'other-customer-refused');
    await grace.context.close();

    const stranger = await person(browser, server.base);
    await stranger.page.goto('/#/sign-in');
    await stranger.page.getByLabel('Token', { exact: true }).fill(server.token('globex', 'agent', 'ann'));
    await stranger.page.getByRole('button', { name: 'Use this token' }).click();
    await stranger.page.getByText('No open sessions').waitFor();
    await stranger.page.goto(`/#/sessions/${s.sessionId}`);
    await stranger.page.getByText(/This conversation could not be opened/).waitFor();
    expect(await stranger.page.content()).not.toContain('parcel');
    await stranger.page.goto(`/#/customers/${s.adaId}`);
    await stranger.page.getByText(/This customer could not be loaded/).waitFor();
    await screen(stranger.page, 'other-tenant-refused');
    await stranger.context.close();
  });

  it('an expired invitation link is refused with a clear page', async () => {
    // Made with the shortest lifetime an invitation may have, early in the run; waited out here.
    expect(s.shortLived).not.toBe('');
    const left = s.shortLivedUntil - Date.now();
    if (left > 0) await new Promise((r) => setTimeout(r, left + 1_000));
    const late = await person(browser, server.base, { phone: true });
    await late.page.goto(s.shortLived);
    await late.page.getByRole('heading', { name: 'This invitation link can’t be used' }).waitFor();
    await late.page.getByText('expired').first().waitFor();
    expect(late.page.url()).not.toContain('/join/');
    expect(await late.page.evaluate(() => sessionStorage.getItem('confer.identity'))).toBeNull();
    await screen(late.page, 'invitation-expired');
    await late.context.close();
  });

  it('a used or unknown invitation link is refused with a clear page', async () => {
    const late = await person(browser, server.base, { phone: true });
    await late.page.goto(s.invitation);
    await late.page.getByRole('heading', { name: 'This invitation link can’t be used' }).waitFor();
    expect(late.page.url()).not.toContain('/join/');
    await screen(late.page, 'invitation-used');
    await late.page.goto('/#/join/acme.not-a-real-secret');
    await late.page.getByRole('heading', { name: 'This invitation link can’t be used' }).waitFor();
    await late.context.close();
  });

  it('history loads older messages as one scrolls up', async () => {
    const token = server.token('acme', 'agent', 'ann');
    const session = await server.api(token).post('/v1/sessions', { customer_id: s.graceId, subject: 'Long story' });
    const graceSocket = await server.socket(server.token('acme', 'customer', s.graceId));
    for (let i = 1; i <= 130; i++) await graceSocket.sendText(session.id, `long-${i}`, `Line ${i} of a long story`);
    graceSocket.close();
    // A fresh page (the live one already holds every message): it reads the latest page only.
    await agent.page.goto(`/#/sessions/${session.id}`);
    await agent.page.reload();
    await message(agent.page, 'Line 130 of a long story').waitFor();
    expect((await shownSeqs(agent.page)).length).toBe(50);
    const scroller = agent.page.locator('.scroller');
    for (let i = 0; i < 10 && !(await agent.page.getByText('This is the beginning of the conversation.').isVisible()); i++) {
      await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
      await agent.page.waitForTimeout(300);
    }
    await agent.page.getByText('This is the beginning of the conversation.').waitFor();
    const seqs = await expectNoGapsOrRepeats(agent.page);
    expect(seqs[0]).toBe(1);
    expect(seqs.length).toBe(130);
    await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
    await screen(agent.page, 'agent-history-top');
  });

  it('an admin invites an agent, who signs in with the one-time password, and manages the team', async () => {
    server.cli(['agent-add', '--tenant', 'acme', '--username', 'root', '--role', 'admin'], { CONFER_AGENT_PASSWORD: PASSWORD });
    const admin = await person(browser, server.base);
    await admin.page.goto('/');
    await admin.page.getByLabel('Workspace', { exact: true }).fill('acme');
    await admin.page.getByLabel('Username', { exact: true }).fill('root');
    await admin.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await admin.page.getByRole('button', { name: 'Sign in' }).click();
    await admin.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Agents' }).click();
    await admin.page.locator('tr[data-agent="ann"]').waitFor();
    await admin.page.getByLabel('Username', { exact: true }).fill('bob');
    await admin.page.getByRole('button', { name: 'Invite agent' }).click();
    const password = await admin.page.getByLabel('One-time password for bob').inputValue();
    expect(password.length).toBeGreaterThanOrEqual(12);
    await admin.page.locator('tr[data-agent="bob"]').waitFor();
    await screen(admin.page, 'admin-agents');

    const bob = await person(browser, server.base);
    await bob.page.goto('/');
    await bob.page.getByLabel('Workspace', { exact: true }).fill('acme');
    await bob.page.getByLabel('Username', { exact: true }).fill('bob');
    await bob.page.getByLabel('Password', { exact: true }).fill(password);
    await bob.page.getByRole('button', { name: 'Sign in' }).click();
    await bob.page.getByRole('heading', { name: 'Open sessions', level: 1 }).waitFor();
    // Agents do not see the team page in their menu.
    expect(await bob.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Agents' }).count()).toBe(0);
    await bob.context.close();

    await admin.page.getByLabel('Role of bob').selectOption('admin');
    await admin.page.getByText('bob was updated.').waitFor();
    await admin.page.getByRole('button', { name: 'Disable bob' }).click();
    await admin.page.locator('tr[data-agent="bob"]', { hasText: 'Disabled' }).waitFor();
    // An admin cannot disable themself: the control is not offered.
    expect(await admin.page.getByRole('button', { name: 'Disable root' }).isDisabled()).toBe(true);
    await admin.context.close();
  });

  it('no page broke its Content-Security-Policy or threw', () => {
    expect(agent.problems).toEqual([]);
    expect(customer.problems).toEqual([]);
  });
});
