// Browser test harness: confer-local started by the test on port 0 with a fresh data directory,
// Debian's Chromium driven by playwright-core, axe-core run in each screen, screenshots written
// to test-results/screens/.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
export const webDir = resolve(here, '../..');
export const repoDir = resolve(webDir, '..');
export const screensDir = join(webDir, 'test-results', 'screens');

export function conferBinary(): string {
  if (process.env.CONFER_LOCAL_BIN) return process.env.CONFER_LOCAL_BIN;
  const target = process.env.CARGO_TARGET_DIR ? resolve(repoDir, process.env.CARGO_TARGET_DIR) : join(repoDir, 'target');
  const bin = join(target, 'debug', 'confer-local');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`cargo test --workspace --no-run\` first (or set CONFER_LOCAL_BIN)`);
  return bin;
}

export class Server {
  process: ChildProcess | null = null;
  base = '';
  port = 0;
  log = '';

  /** `env`: more of confer-local's environment (`CONFER_TRANSLATE_URL`, say). */
  constructor(
    readonly dataDir: string,
    readonly env: Record<string, string> = {},
  ) {}

  /** Starts confer-local on `port` (0: a free one), serving the client as built into it, or from CONFER_WEB_DIR. */
  async start(port = 0): Promise<void> {
    const args = ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', this.dataDir, '--log-format', 'text', '--log-level', 'warn'];
    if (process.env.CONFER_WEB_DIR) args.push('--web-dir', process.env.CONFER_WEB_DIR);
    const child = spawn(conferBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.process = child;
    child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.base = await new Promise<string>((resolvePromise, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`confer-local did not start: ${this.log}`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /http:\/\/[0-9.:]+/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolvePromise(m[0]);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`confer-local exited (${code}): ${this.log}`));
      });
    });
    this.port = Number(new URL(this.base).port);
  }

  /** Stops it the way an operator does (SIGTERM) and waits for it to end. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolvePromise) => {
      child.once('exit', () => resolvePromise());
      child.kill('SIGTERM');
    });
    this.process = null;
  }

  cli(args: string[], env: Record<string, string> = {}): string {
    return execFileSync(conferBinary(), [...args, '--data-dir', this.dataDir], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    }).trim();
  }

  token(tenant: string, role: 'agent' | 'admin' | 'customer', sub: string): string {
    return this.cli(['token', '--tenant', tenant, '--role', role, '--sub', sub]);
  }

  addAgent(tenant: string, username: string, password: string): void {
    this.cli(['agent-add', '--tenant', tenant, '--username', username], { CONFER_AGENT_PASSWORD: password });
  }

  api(token: string | null) {
    const call = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(this.base + path, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : null) as T;
    };
    return {
      get: <T = any>(path: string) => call<T>('GET', path),
      post: <T = any>(path: string, body: unknown = {}) => call<T>('POST', path, body),
      put: <T = any>(path: string, body: unknown = {}) => call<T>('PUT', path, body),
      patch: <T = any>(path: string, body: unknown = {}) => call<T>('PATCH', path, body),
    };
  }

  /** A WebSocket client of this server (Node's own), for sending as another participant. */
  async socket(token: string): Promise<RawSocket> {
    const ws = new WebSocket(this.base.replace('http', 'ws') + '/ws', ['confer.v1', `bearer.${token}`]);
    const frames: any[] = [];
    ws.addEventListener('message', (e) => frames.push(JSON.parse(String(e.data))));
    await new Promise<void>((res, rej) => {
      ws.addEventListener('open', () => res());
      ws.addEventListener('error', () => rej(new Error('socket refused')));
    });
    const socket: RawSocket = {
      frames,
      send: (frame) => ws.send(JSON.stringify(frame)),
      close: () => ws.close(),
      async sendText(sessionId, cmid, text) {
        socket.send({ action: 'send', session_id: sessionId, client_message_id: cmid, text });
        return waitFor(() => frames.find((f) => f.type === 'ack' && f.client_message_id === cmid), `ack of ${cmid}`);
      },
    };
    return socket;
  }
}

export interface RawSocket {
  frames: any[];
  send(frame: Record<string, unknown>): void;
  close(): void;
  sendText(sessionId: string, cmid: string, text: string): Promise<any>;
}

export async function waitFor<T>(fn: () => T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function freshDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'confer-web-test-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Chromium; `refuseMedia`: the person answers no whenever a page asks for the camera or microphone;
 * `args`: more of Chromium's flags (a sound file its fake microphone plays, say).
 */
export async function launchBrowser(options: { refuseMedia?: boolean; args?: string[] } = {}): Promise<Browser> {
  const args = (
    options.refuseMedia
      ? CHROMIUM_FLAGS.map((f) => (f === '--use-fake-ui-for-media-stream' ? '--use-fake-ui-for-media-stream=deny' : f))
      : CHROMIUM_FLAGS
  ).concat(options.args ?? []);
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args,
  });
}

export interface Person {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy violations and uncaught errors seen by the page. */
  problems: string[];
}

export async function person(
  browser: Browser,
  base: string,
  options: { phone?: boolean; permissions?: string[]; locale?: string } = {},
): Promise<Person> {
  const context = await browser.newContext({
    locale: options.locale,
    viewport: options.phone ? { width: 390, height: 844 } : { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    isMobile: options.phone ?? false,
    hasTouch: options.phone ?? false,
    permissions: options.permissions ?? ['microphone', 'clipboard-read', 'clipboard-write'],
    baseURL: base,
  });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return { context, page, problems };
}

/** Signs `agent` in on the console with a token, as the sign-in page's token form does. */
export async function signInWithToken(agent: Person, token: string): Promise<Person> {
  await agent.page.goto('/#/sign-in');
  await agent.page.getByLabel('Token', { exact: true }).fill(token);
  await agent.page.getByRole('button', { name: 'Use this token' }).click();
  await agent.page.getByRole('heading', { name: 'Open sessions', level: 1 }).waitFor();
  return agent;
}

/** Opens a customer's chat through an invitation's `join_path`, connected. */
export async function joinByInvitation(customer: Person, base: string, joinPath: string): Promise<Person> {
  await customer.page.goto(base + joinPath);
  await customer.page.locator('.conn[data-state=open]').waitFor();
  return customer;
}

const axeSource = readFileSync(join(webDir, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/**
 * Runs axe-core in the page (evaluated through the driver, so the page's CSP is untouched) and
 * fails on any serious or critical violation.
 */
export async function checkAccessibility(page: Page, screen: string): Promise<void> {
  const has = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  if (!has) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<any> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n: any) => `${n.target.join(' ')} — ${n.failureSummary}`),
    }));
  });
  const serious = violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `axe on ${screen}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
  // Every visible control is in the tab order and has a name.
  const unreachable = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, summary, audio[controls], [role=button]')]
      .filter((el) => el.getClientRects().length > 0 && !el.closest('[inert], dialog:not([open])'))
      .filter((el) => el.tabIndex < 0)
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  expect(unreachable, `controls out of the tab order on ${screen}`).toEqual([]);
}

let shotsDir = screensDir;

/**
 * Empties a test file's screenshots folder (a run's pictures only): test-results/screens/, or a
 * folder of its own inside it (`sub`), which the others' reset leaves alone.
 */
export function resetScreens(sub?: string): void {
  shotsDir = sub ? join(screensDir, sub) : screensDir;
  mkdirSync(shotsDir, { recursive: true });
  for (const entry of readdirSync(shotsDir, { withFileTypes: true })) {
    if (entry.isFile()) rmSync(join(shotsDir, entry.name), { force: true });
  }
}

let shot = 0;
/** Writes a screenshot of the page to test-results/screens/[sub/]NN-name.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(shotsDir, { recursive: true });
  shot += 1;
  const path = join(shotsDir, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** axe and a screenshot: every screen gets both. */
export async function screen(page: Page, name: string): Promise<void> {
  await checkAccessibility(page, name);
  await screenshot(page, name);
}

/** A small PNG made in the browser (a gradient), as bytes. */
export async function makePng(page: Page, width: number, height: number): Promise<Buffer> {
  const b64 = await page.evaluate(
    ([w, hgt]) => {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = hgt;
      const g = c.getContext('2d')!;
      const grad = g.createLinearGradient(0, 0, w, hgt);
      grad.addColorStop(0, '#1d4ed8');
      grad.addColorStop(1, '#f59e0b');
      g.fillStyle = grad;
      g.fillRect(0, 0, w, hgt);
      g.fillStyle = '#ffffff';
      g.font = `${Math.round(hgt / 5)}px sans-serif`;
      g.fillText('Confer', w / 10, hgt / 2);
      return c.toDataURL('image/png').split(',')[1];
    },
    [width, height] as const,
  );
  return Buffer.from(b64, 'base64');
}

/** A fresh confer-local with one agent, and Chromium: what each browser test file starts from. */
export interface Stack {
  server: Server;
  browser: Browser;
  dataDir: string;
}

export async function startStack(agent: { tenant: string; username: string; password: string }, env: Record<string, string> = {}): Promise<Stack> {
  const dataDir = freshDataDir();
  const server = new Server(dataDir, env);
  await server.start();
  server.addAgent(agent.tenant, agent.username, agent.password);
  return { server, browser: await launchBrowser(), dataDir };
}

export async function stopStack(stack: Partial<Stack>): Promise<void> {
  await stack.browser?.close();
  await stack.server?.stop();
  if (stack.dataDir) removeDir(stack.dataDir);
}

/**
 * A LibreTranslate-compatible service built from that API's documented shapes: `POST /translate`
 * `{"q","source","target","format"}` answers `{"translatedText"}`, here `[target] q`, so each
 * translation shows where it came from; 400 `{"error"}` for a language outside `languages`.
 */
export async function startTranslator(languages = ['en', 'es']): Promise<{ url: string; calls: () => number; close: () => Promise<void> }> {
  let calls = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method !== 'POST' || req.url !== '/translate') {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: 'Not Found' }));
        return;
      }
      calls++;
      const { q, target } = JSON.parse(body) as { q: string; target: string };
      if (!languages.includes(target)) {
        res.statusCode = 400;
        res.end(JSON.stringify({ error: `${target} is not supported` }));
        return;
      }
      res.end(JSON.stringify({ translatedText: `[${target}] ${q}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, calls: () => calls, close: () => new Promise((r) => server.close(() => r())) };
}
