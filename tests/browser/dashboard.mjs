#!/usr/bin/env node
// The dashboard in a real browser: Debian's Chromium (headless), driven by playwright-core,
// against a daemon this script starts on the loopback with a fresh data directory.
//
// What it checks, as a person would use it:
//   1. Sign in with the API key; the JSON editor refuses a send_email without a subject and
//      names `actions[0].config.subject`; a draft workflow with a transform is created and
//      activated; a webhook is created (URL and secret shown once, copy buttons work); an
//      event posted to it shows up as an execution with its steps; Replay makes a new one
//      ("Replay of …"); Settings generates a key (shown once) that the API accepts, revoking
//      it makes the API refuse it; the signing secret is shown and rotated; signing out
//      sends every page back to the sign-in form.
//   2. Hostile text (<script>, "><img onerror>) in an event and in a workflow name is shown
//      as text: nothing runs, no dialog opens, no Content-Security-Policy violation.
//   3. A form posted from another origin cannot delete a workflow (403 from a same-site
//      origin, no session at all from another site), and a same-origin POST without the
//      session's form token is refused with 403.
//   4. A session whose API key was revoked, or an unknown session cookie, lands on sign-in.
//   5. The operator token opens the accounts list and an account's page; an account session
//      gets 403 there, and the operator gets 403 on an account's pages.
//   6. The sign-in form works with the keyboard alone (focus, Tab, Enter).
//   7. Every dashboard response carries a Content-Security-Policy with `default-src 'self'`
//      and `frame-ancestors 'none'`, and no page's HTML has a <script> without `src`.
// Every page visited is saved as a full-page screenshot at 1280 px, and the main pages
// again at 390 px (a phone), where they must not scroll sideways.
//
//   cd tests/browser && npm ci && node dashboard.mjs
//   BOTCADENCE_BIN=/path/to/botcadence node dashboard.mjs   (default: the release build)
//   CHROMIUM=/usr/bin/chromium                               (default)
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const TARGET = path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target');
const BIN = process.env.BOTCADENCE_BIN || path.join(TARGET, 'release', 'botcadence');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SHOTS = fs.mkdtempSync(path.join(os.tmpdir(), 'botcadence-dashboard-shots-'));
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'botcadence-dashboard-run-'));

// ---------------------------------------------------------------------------------------
// Steps, checks, the HTTP API.

let currentStep = '(setup)';
let lastPage = null;

async function step(name, fn) {
  currentStep = name;
  const result = await fn();
  console.log(`ok ${name}`);
  return result;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function api(method, urlPath, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(daemon.base + urlPath, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: the text says what happened.
  }
  return { status: res.status, json, text };
}

async function apiOk(method, urlPath, opts, want) {
  const res = await api(method, urlPath, opts);
  if (res.status !== want) {
    throw new Error(`${method} ${urlPath}: expected ${want}, got ${res.status}: ${res.text.slice(0, 500)}`);
  }
  return res.json;
}

// ---------------------------------------------------------------------------------------
// The daemon: started on 127.0.0.1:0 with a fresh data directory; always stopped.

const daemon = { proc: null, base: null, key: null, adminToken: null, log: path.join(WORK, 'daemon.log') };

function startDaemon() {
  const dataDir = path.join(WORK, 'data');
  fs.mkdirSync(dataDir);
  daemon.adminToken = crypto.randomBytes(24).toString('hex');
  const env = { ...process.env, BOTCADENCE_ADMIN_TOKEN: daemon.adminToken, BOTCADENCE_LOG__LEVEL: 'info' };
  delete env.RUST_LOG; // it would take precedence over the level above
  check(fs.existsSync(BIN), `no daemon binary at ${BIN} (build it, or set BOTCADENCE_BIN)`);
  const proc = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  daemon.proc = proc;
  const logFile = fs.createWriteStream(daemon.log);
  let stdout = '';
  let all = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the daemon did not start in 30 s:\n${all.slice(-2000)}`)), 30_000);
    const progress = () => {
      const listening = /listening on (http:\/\/[0-9.:]+)/.exec(all);
      const key = /\b(bc_live_[0-9a-f]{64})\b/.exec(stdout);
      if (listening && key) {
        clearTimeout(timer);
        daemon.base = listening[1];
        daemon.key = key[1];
        resolve();
      }
    };
    proc.stdout.on('data', (d) => {
      stdout += d;
      all += d;
      logFile.write(d);
      progress();
    });
    proc.stderr.on('data', (d) => {
      all += d;
      logFile.write(d);
      progress();
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the daemon exited (${code ?? signal}) before it was ready:\n${all.slice(-2000)}`));
    });
  });
}

async function stopDaemon() {
  const proc = daemon.proc;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timeout = sleep(10_000).then(() => 'timeout');
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    proc.kill('SIGKILL');
    await exited;
  }
}

// Whatever happens (an exception, Ctrl-C), the daemon does not outlive this script.
process.on('exit', () => {
  if (daemon.proc && daemon.proc.exitCode === null && daemon.proc.signalCode === null) daemon.proc.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`stopped by ${sig}`);
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------
// The browser: every context records the dashboard's document responses (checked for the
// security headers and inline script), dialogs, page errors and CSP reports.

let browser;
const documents = []; // {url, status, csp, inlineScripts}
let pendingDocuments = [];
const dialogs = [];
const cspReports = [];
const pageErrors = [];
let shotCount = 0;

function isDashboard(url) {
  return url.startsWith(`${daemon.base}/dashboard`);
}

/** Never rejects: a body that could not be read is an `error` the next settle() reports. */
async function inspectDocument(response) {
  const url = response.url();
  const status = response.status();
  const entry = { url, status, csp: '', inlineScripts: [], error: null };
  try {
    const headers = await response.allHeaders();
    entry.csp = headers['content-security-policy'] || '';
    if (status < 300 || status >= 400) {
      const html = await response.text();
      entry.bytes = html.length;
      for (const m of html.matchAll(/<script\b([^>]*)>/gi)) {
        if (!/\ssrc\s*=/i.test(` ${m[1]}`)) entry.inlineScripts.push(m[0]);
      }
    }
  } catch (err) {
    entry.error = err.message;
  }
  documents.push(entry);
  return entry;
}

async function newContext(viewport, options = {}) {
  const context = await browser.newContext({
    viewport,
    isMobile: viewport.width < 600,
    hasTouch: viewport.width < 600,
    deviceScaleFactor: 1,
    permissions: ['clipboard-read', 'clipboard-write'],
    ...options,
  });
  context.on('response', (response) => {
    let navigation = false;
    try {
      const req = response.request();
      navigation = req.isNavigationRequest() && req.frame() === req.frame().page().mainFrame();
    } catch {
      navigation = false;
    }
    if (navigation && isDashboard(response.url())) pendingDocuments.push(inspectDocument(response));
  });
  context.on('page', watchPage);
  return context;
}

function watchPage(page) {
  page.on('dialog', async (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()} (on ${page.url()})`);
    await dialog.dismiss().catch(() => {});
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /content.security.policy/i.test(msg.text())) {
      cspReports.push(`${page.url()}: ${msg.text()}`);
    }
  });
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
}

async function newPage(context) {
  const page = await context.newPage();
  lastPage = page;
  return page;
}

/** After every navigation: the document checks (scenario 7), nothing ran that should not
 *  have, and a full-page screenshot. */
async function settle(page, label) {
  lastPage = page;
  await page.waitForLoadState('load');
  const pending = pendingDocuments;
  pendingDocuments = [];
  for (const entry of await Promise.all(pending)) {
    check(!entry.error, `${entry.url} (${entry.status}): the response could not be read: ${entry.error}`);
    check(entry.csp.includes("default-src 'self'"), `${entry.url} (${entry.status}): CSP without default-src 'self': "${entry.csp}"`);
    check(entry.csp.includes("frame-ancestors 'none'"), `${entry.url} (${entry.status}): CSP without frame-ancestors 'none': "${entry.csp}"`);
    check(entry.inlineScripts.length === 0, `${entry.url}: inline script in the HTML: ${entry.inlineScripts.join(' ')}`);
  }
  const dom = await page.evaluate(() => ({
    pwned: typeof window.__pwned === 'undefined' ? null : String(window.__pwned),
    inlineScripts: [...document.querySelectorAll('script:not([src])')].length,
    handlers: [...document.querySelectorAll('*')]
      .flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => `<${el.localName} ${a.name}>`)),
    images: [...document.querySelectorAll('img')].map((i) => i.getAttribute('src')),
    stylesheets: document.styleSheets.length,
  }));
  check(dom.pwned === null, `${page.url()}: window.__pwned is ${dom.pwned}: an injected script ran`);
  check(dom.inlineScripts === 0, `${page.url()}: ${dom.inlineScripts} inline <script> element(s) in the DOM`);
  check(dom.handlers.length === 0, `${page.url()}: inline event handler attributes: ${dom.handlers.join(', ')}`);
  check(dom.images.length === 0, `${page.url()}: unexpected <img> elements: ${dom.images.join(', ')}`);
  check(dom.stylesheets >= 1, `${page.url()}: the stylesheet did not load`);
  const width = page.viewportSize().width;
  // A phone zooms out to fit a page wider than the screen: compare with the device width.
  const pageWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  check(pageWidth <= width, `${page.url()}: the page is ${pageWidth}px wide at a ${width}px wide screen (it scrolls sideways)`);
  // An id or URL in a table may wrap, but its column must not shrink to a few characters.
  const squeezed = await page.evaluate(() => [...document.querySelectorAll('td code')]
    .filter((c) => c.textContent.length > 8 && c.getBoundingClientRect().width < 60)
    .map((c) => `"${c.textContent}" ${Math.round(c.getBoundingClientRect().width)}px wide`));
  check(squeezed.length === 0, `${page.url()}: table cells squeezed to a sliver at ${width}px: ${squeezed.join(', ')}`);
  shotCount += 1;
  const file = path.join(SHOTS, `${String(shotCount).padStart(2, '0')}-${label}-${width}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

/** Runs `action` (a click, a submit) and waits for the page it leads to; returns that
 *  page's response (after any redirects). */
async function navigate(page, action) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => {
      const req = r.request();
      return req.isNavigationRequest() && req.frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400);
    }, { timeout: 20_000 }),
    action(),
  ]);
  // The response arrives before the page is replaced: wait for the new document itself.
  await page.waitForURL((url) => url.href === response.url(), { waitUntil: 'load', timeout: 20_000 });
  return response;
}

async function visit(page, urlPath, label, wantStatus = 200) {
  const response = await page.goto(daemon.base + urlPath);
  check(response, `no response for ${urlPath}`);
  check(response.status() === wantStatus, `GET ${urlPath}: expected ${wantStatus}, got ${response.status()} at ${page.url()}`);
  await settle(page, label);
  return response;
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

async function text(page, selector) {
  return (await page.locator(selector).first().textContent())?.trim() ?? '';
}

async function signIn(page, secret, label) {
  await visit(page, '/dashboard/login', `${label}-sign-in`);
  await page.fill('#key', secret);
  const res = await navigate(page, () => page.getByRole('button', { name: 'Sign in' }).click());
  check(res.status() === 200, `sign-in answered ${res.status()} at ${page.url()}`);
  return res;
}

// ---------------------------------------------------------------------------------------
// The scenarios.

const HOSTILE_1 = '<script>window.__pwned=1</script>';
const HOSTILE_2 = '"><img src=x onerror="window.__pwned=2">';
const HOSTILE_3 = "<svg/onload=alert('xss')>";

async function scenarioSignInAndWorkflow(ctx) {
  const page = await newPage(ctx);
  const s = {};

  await step('[1] /dashboard without a session shows the sign-in form', async () => {
    const res = await page.goto(`${daemon.base}/dashboard`);
    equal(res.status(), 200, 'status after the redirect');
    equal(pathOf(page), '/dashboard/login', 'landed on');
    await settle(page, 'sign-in');
  });

  await step('[1] a wrong key is refused on the form with a message', async () => {
    await page.fill('#key', 'bc_live_' + '0'.repeat(64));
    const res = await navigate(page, () => page.getByRole('button', { name: 'Sign in' }).click());
    equal(res.status(), 401, 'status');
    check((await text(page, '.error')).includes('not a valid API key'), `no error message: ${await text(page, 'main')}`);
    await settle(page, 'sign-in-refused');
  });

  await step('[1] sign in with the API key in the form', async () => {
    await page.fill('#key', daemon.key);
    await navigate(page, () => page.getByRole('button', { name: 'Sign in' }).click());
    equal(pathOf(page), '/dashboard/overview', 'landed on');
    equal(await text(page, 'h1'), 'Overview', 'heading');
    const cookies = await ctx.cookies(`${daemon.base}/dashboard`);
    const session = cookies.find((c) => c.name === 'bc_session');
    // Secure too: the loopback is a secure context for Chromium, so the cookie still comes back over http.
    check(session && session.httpOnly && session.sameSite === 'Strict' && session.secure,
      `session cookie: ${JSON.stringify(session)}`);
    check(!(await page.content()).includes(daemon.key), 'the API key is in the page');
    await settle(page, 'overview-empty');
  });

  await step('[1] the workflows list is empty and links to the editor', async () => {
    await navigate(page, () => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workflows' }).click());
    equal(pathOf(page), '/dashboard/workflows', 'page');
    check((await text(page, '.empty')).includes('No workflows yet'), 'no empty-list message');
    await settle(page, 'workflows-empty');
    await navigate(page, () => page.getByRole('link', { name: 'New workflow' }).click());
    equal(pathOf(page), '/dashboard/workflows/new', 'page');
    const template = await page.inputValue('#definition');
    JSON.parse(template); // the editor starts from a valid example
    await settle(page, 'workflow-new');
  });

  await step('[1] the editor refuses a send_email without subject, naming actions[0].config.subject', async () => {
    const invalid = JSON.stringify({
      name: 'Greeting',
      status: 'draft',
      trigger: { type: 'webhook', event: 'user.created' },
      actions: [{ type: 'send_email', config: { to: '{{user.email}}', body: 'Hello {{user.name}}' } }],
    }, null, 2);
    await page.fill('#definition', invalid);
    const res = await navigate(page, () => page.getByRole('button', { name: 'Create workflow' }).click());
    check(res.status() >= 400 && res.status() < 500, `status ${res.status()}`);
    const error = await text(page, '#editor-error');
    equal(await text(page, '#editor-error code.field'), 'actions[0].config.subject', `the field named (error: ${error})`);
    equal(await page.getAttribute('#definition', 'aria-invalid'), 'true', 'aria-invalid on the textarea');
    equal(await page.inputValue('#definition'), invalid, 'the textarea keeps what was typed');
    equal(await page.evaluate(() => document.activeElement?.id), 'definition', 'focus after the error');
    const list = await apiOk('GET', '/v1/workflows', { token: daemon.key }, 200);
    equal(list.total, 0, 'workflows after the refused definition');
    await settle(page, 'workflow-new-error');
  });

  await step('[1] a valid draft with a transform action is created', async () => {
    const valid = JSON.stringify({
      name: 'Greeting',
      status: 'draft',
      trigger: { type: 'webhook', event: 'user.created' },
      actions: [{ type: 'transform', config: { set: { greeting: 'hello {{user.name}}' } } }],
    }, null, 2);
    await page.fill('#definition', valid);
    await navigate(page, () => page.getByRole('button', { name: 'Create workflow' }).click());
    const m = /^\/dashboard\/workflows\/([^/]+)$/.exec(pathOf(page));
    check(m, `not on a workflow page: ${page.url()}`);
    s.workflowId = m[1];
    equal(await text(page, 'h1'), 'Greeting', 'heading');
    equal(await text(page, '.facts .status'), 'draft', 'status shown');
    const wf = await apiOk('GET', `/v1/workflows/${s.workflowId}`, { token: daemon.key }, 200);
    equal(wf.status, 'draft', 'status in the API');
    equal(wf.actions[0].type, 'transform', 'action in the API');
    await settle(page, 'workflow-draft');
  });

  await step('[1] the Activate button activates it', async () => {
    await navigate(page, () => page.getByRole('button', { name: 'Activate' }).click());
    equal(pathOf(page), `/dashboard/workflows/${s.workflowId}`, 'back on');
    equal(await text(page, '.facts .status'), 'active', 'status shown');
    check(await page.getByRole('button', { name: 'Pause' }).isVisible(), 'no Pause button');
    const wf = await apiOk('GET', `/v1/workflows/${s.workflowId}`, { token: daemon.key }, 200);
    equal(wf.status, 'active', 'status in the API');
    await settle(page, 'workflow-active');
  });

  await step('[1] a webhook is created on the Webhooks page; URL and secret shown once with copy buttons', async () => {
    await navigate(page, () => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click());
    equal(pathOf(page), '/dashboard/webhooks', 'page');
    await settle(page, 'webhooks-empty');
    await page.selectOption('#workflow_id', s.workflowId);
    await page.fill('#event', 'user.created');
    await page.selectOption('#verify', 'none');
    const res = await navigate(page, () => page.getByRole('button', { name: 'Create webhook' }).click());
    equal(res.status(), 201, 'status');
    const created = page.locator('section.created');
    s.hookUrl = await created.getByLabel('URL').inputValue();
    s.hookSecret = await created.getByLabel('Secret').inputValue();
    check(s.hookUrl.startsWith(`${daemon.base}/webhooks/`), `hook URL ${s.hookUrl}`);
    check(s.hookSecret.length >= 16, `hook secret "${s.hookSecret}"`);
    const copyUrl = created.getByRole('button', { name: 'Copy URL' });
    const copySecret = created.getByRole('button', { name: 'Copy secret' });
    equal(await copyUrl.getAttribute('data-copy'), s.hookUrl, 'Copy URL copies');
    equal(await copySecret.getAttribute('data-copy'), s.hookSecret, 'Copy secret copies');
    await copySecret.click();
    await page.waitForFunction(() => [...document.querySelectorAll('section.created button.copy')].some((b) => b.textContent === 'Copied'), null, { timeout: 5000 });
    equal(await page.evaluate(() => navigator.clipboard.readText()), s.hookSecret, 'clipboard after Copy secret');
    check((await page.locator('table').textContent()).includes(s.hookUrl), 'the new hook is not listed');
    await settle(page, 'webhooks-created');
  });

  await step('[1] the webhook secret is not shown again', async () => {
    await visit(page, '/dashboard/webhooks', 'webhooks-list');
    equal(await page.locator('section.created').count(), 0, 'created cards after a reload');
    check(!(await page.content()).includes(s.hookSecret), 'the secret is still in the page');
  });

  await step('[1] deleting a webhook asks first; Cancel keeps it', async () => {
    const row = page.locator('tbody tr', { hasText: s.hookUrl });
    await navigate(page, () => row.getByRole('link', { name: 'Delete…' }).click());
    check(/^\/dashboard\/webhooks\/[^/]+\/delete$/.test(pathOf(page)), `not on the confirm page: ${page.url()}`);
    check((await text(page, 'main')).includes(s.hookUrl), 'the confirm page does not name the hook');
    await settle(page, 'webhook-delete-confirm');
    await navigate(page, () => page.getByRole('link', { name: 'Cancel' }).click());
    equal(pathOf(page), '/dashboard/webhooks', 'after Cancel');
    equal(await page.locator('tbody tr', { hasText: s.hookUrl }).count(), 1, 'rows of the hook after Cancel');
    await settle(page, 'webhooks-after-cancel');
  });

  await step('[1] before any event, the executions page shows how to post one', async () => {
    await visit(page, `/dashboard/workflows/${s.workflowId}`, 'workflow-with-hook');
    check((await page.locator('ul.plain').textContent()).includes(s.hookUrl), 'the workflow page does not list its hook');
    await navigate(page, () => page.getByRole('link', { name: 'Executions', exact: true }).click());
    equal(pathOf(page), `/dashboard/workflows/${s.workflowId}/executions`, 'page');
    check((await text(page, '.empty pre')).includes(s.hookUrl), 'no curl line with the hook URL');
    await settle(page, 'executions-empty');
  });

  await step('[1] an event posted to the hook URL is accepted', async () => {
    s.payload = { user: { name: 'Ada', email: 'ada@example.com' } };
    const res = await fetch(s.hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(s.payload),
    });
    const body = await res.json();
    equal(res.status, 202, `ingest status (${JSON.stringify(body)})`);
    s.executionId = body.execution_id;
    check(s.executionId, 'no execution id');
  });

  await step('[1] the execution appears in the executions list and opens with its steps', async () => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      await page.reload();
      const row = page.locator('tr', { has: page.locator(`a[href="/dashboard/executions/${s.executionId}"]`) });
      if ((await row.count()) === 1 && (await row.locator('.status').textContent()) === 'success') break;
      check(Date.now() < deadline, `execution ${s.executionId} is not listed as success: ${await text(page, 'main')}`);
      await sleep(300);
    }
    pendingDocuments = pendingDocuments.slice(-1); // only the last reload is looked at
    await settle(page, 'executions-one');
    await navigate(page, () => page.locator(`a[href="/dashboard/executions/${s.executionId}"]`).click());
    equal(pathOf(page), `/dashboard/executions/${s.executionId}`, 'page');
    equal(await text(page, '.facts .status'), 'success', 'execution status');
    const steps = page.locator('ol.steps li.step');
    equal(await steps.count(), 1, 'steps shown');
    check((await steps.first().textContent()).includes('1. transform'), `step title: ${await steps.first().textContent()}`);
    equal(await steps.first().locator('.status').textContent(), 'success', 'step status');
    equal(JSON.parse(await steps.first().locator('pre').textContent()), { greeting: 'hello Ada' }, 'step output');
    equal(JSON.parse(await page.locator('pre.json').first().textContent()), s.payload, 'input shown');
    await settle(page, 'execution');
  });

  await step('[1] Replay makes a new execution shown as "Replay of" the first', async () => {
    await navigate(page, () => page.getByRole('button', { name: 'Replay' }).click());
    const m = /^\/dashboard\/executions\/([^/]+)$/.exec(pathOf(page));
    check(m && m[1] !== s.executionId, `not on a new execution: ${page.url()}`);
    s.replayId = m[1];
    const replayOf = page.locator('.facts div', { has: page.locator('dt', { hasText: 'Replay of' }) });
    equal(await replayOf.count(), 1, '"Replay of" shown');
    equal((await replayOf.locator('dd').textContent()).trim(), s.executionId, '"Replay of" names');
    equal(await replayOf.locator('a').getAttribute('href'), `/dashboard/executions/${s.executionId}`, '"Replay of" links to');
    const exec = await apiOk('GET', `/v1/executions/${s.replayId}`, { token: daemon.key }, 200);
    equal(exec.replay_of, s.executionId, 'replay_of in the API');
    await settle(page, 'execution-replay');
    await visit(page, `/dashboard/workflows/${s.workflowId}/executions`, 'executions-two');
    check((await text(page, 'p.hint')).startsWith('2 executions'), `list header: ${await text(page, 'p.hint')}`);
  });

  await step('[1] the executions filters: empty by default, by status and by date', async () => {
    equal([await page.inputValue('input[name=from]'), await page.inputValue('input[name=to]')], ['', ''], 'the date filters before filtering');
    const filter = async (fields, label) => {
      await page.selectOption('select[name=status]', fields.status ?? '');
      await page.fill('input[name=from]', fields.from ?? '');
      await page.fill('input[name=to]', fields.to ?? '');
      const res = await navigate(page, () => page.getByRole('button', { name: 'Filter' }).click());
      equal(res.status(), 200, `status with ${JSON.stringify(fields)}`);
      const error = await page.locator('.error').count() ? await text(page, '.error') : null;
      equal(error, null, `error with ${JSON.stringify(fields)}`);
      await settle(page, label);
      return page.locator('tbody tr').count();
    };
    equal(await filter({ status: 'success' }, 'executions-filter-success'), 2, 'rows with status success');
    equal(await filter({ status: 'failed' }, 'executions-filter-failed'), 0, 'rows with status failed');
    check((await text(page, '.empty')).includes('No executions match'), 'no "no match" message');
    equal(await filter({ from: '2000-01-01T00:00:00Z' }, 'executions-filter-from'), 2, 'rows from 2000 on');
    equal(await filter({ to: '2000-01-01T00:00:00Z' }, 'executions-filter-to'), 0, 'rows until 2000');
    equal(await page.inputValue('input[name=to]'), '2000-01-01T00:00:00Z', 'the filter is kept in the form');
  });

  await step('[1] Settings: Generate New Key shows the key once and the API takes it', async () => {
    await navigate(page, () => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click());
    equal(pathOf(page), '/dashboard/settings', 'page');
    const current = page.locator('tr', { hasText: "this session's key" });
    equal(await current.count(), 1, "rows marked as this session's key");
    equal(await current.getByRole('button', { name: 'Revoke' }).count(), 0, 'a Revoke button on the session key');
    await settle(page, 'settings');
    await page.fill('#name', 'browser check');
    const res = await navigate(page, () => page.getByRole('button', { name: 'Generate New Key' }).click());
    equal(res.status(), 201, 'status');
    s.newKey = await page.getByLabel('New API key').inputValue();
    check(/^bc_live_[0-9a-f]{64}$/.test(s.newKey), `the key shown: "${s.newKey}"`);
    equal(await page.getByRole('button', { name: 'Copy key' }).getAttribute('data-copy'), s.newKey, 'Copy key copies');
    check((await text(page, 'section.created pre')).includes(s.newKey), 'the curl line lacks the key');
    await settle(page, 'settings-new-key');
    const list = await api('GET', '/v1/workflows', { token: s.newKey });
    equal(list.status, 200, 'GET /v1/workflows with the new key');
    check(list.json.data.some((w) => w.id === s.workflowId), 'the new key does not see the workflow');
    await visit(page, '/dashboard/settings', 'settings-two-keys');
    check(!(await page.content()).includes(s.newKey), 'the key is shown again after a reload');
  });

  await step('[1] revoking the key in the page makes the API refuse it (401)', async () => {
    const row = page.locator('tr', { hasText: 'browser check' });
    equal(await row.count(), 1, 'rows of the new key');
    await navigate(page, () => row.getByRole('button', { name: 'Revoke' }).click());
    equal(pathOf(page), '/dashboard/settings', 'back on');
    equal(await page.locator('tr', { hasText: 'browser check' }).count(), 0, 'rows of the revoked key');
    const res = await api('GET', '/v1/workflows', { token: s.newKey });
    equal(res.status, 401, 'GET /v1/workflows with the revoked key');
    await settle(page, 'settings-revoked');
  });

  await step('[1] the signing secret is shown and rotates', async () => {
    await navigate(page, () => page.getByRole('link', { name: 'Show signing secret' }).click());
    equal(pathOf(page), '/dashboard/settings/signing-secret', 'page');
    const before = await page.getByLabel('Signing secret').inputValue();
    equal(before, (await apiOk('GET', '/v1/signing-secret', { token: daemon.key }, 200)).secret, 'secret shown');
    await settle(page, 'signing-secret');
    await navigate(page, () => page.getByRole('button', { name: 'Rotate' }).click());
    equal(pathOf(page), '/dashboard/settings/signing-secret', 'back on');
    const after = await page.getByLabel('Signing secret').inputValue();
    check(after && after !== before, 'the secret did not change');
    equal(after, (await apiOk('GET', '/v1/signing-secret', { token: daemon.key }, 200)).secret, 'secret after rotation');
    await settle(page, 'signing-secret-rotated');
  });

  await step('[1] sign out: /dashboard/overview then lands on the sign-in page', async () => {
    await navigate(page, () => page.getByRole('button', { name: 'Sign out' }).click());
    equal(pathOf(page), '/dashboard/login', 'after Sign out');
    equal((await ctx.cookies(`${daemon.base}/dashboard`)).filter((c) => c.name === 'bc_session').length, 0, 'session cookies left');
    await settle(page, 'signed-out');
    await visit(page, '/dashboard/overview', 'overview-signed-out');
    equal(pathOf(page), '/dashboard/login', '/dashboard/overview after sign-out');
    await visit(page, `/dashboard/workflows/${s.workflowId}`, 'workflow-signed-out');
    equal(pathOf(page), '/dashboard/login', 'a workflow page after sign-out');
  });

  await page.close();
  return s;
}

async function scenarioHostileText(page) {
  const s = {};
  s.name = `Hostile ${HOSTILE_1} ${HOSTILE_2}`;

  await step('[2] a workflow with a hostile name and an event with hostile text are accepted', async () => {
    const wf = await apiOk('POST', '/v1/workflows', {
      token: daemon.key,
      body: {
        name: s.name,
        status: 'active',
        trigger: { type: 'webhook', event: 'user.created' },
        actions: [{ type: 'transform', config: { set: { greeting: 'hello {{user.name}}', note: '{{user.note}}' } } }],
      },
    }, 201);
    s.workflowId = wf.id;
    const hook = await apiOk('POST', '/v1/webhooks', { token: daemon.key, body: { workflow_id: wf.id, event: 'user.created' } }, 201);
    s.payload = { user: { name: HOSTILE_1, email: HOSTILE_2, note: HOSTILE_3 }, [HOSTILE_2]: HOSTILE_1 };
    const res = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s.payload) });
    const body = await res.json();
    equal(res.status, 202, `ingest status (${JSON.stringify(body)})`);
    s.executionId = body.execution_id;
    const deadline = Date.now() + 15_000;
    while ((await apiOk('GET', `/v1/executions/${s.executionId}`, { token: daemon.key }, 200)).status !== 'success') {
      check(Date.now() < deadline, 'the execution did not succeed in 15 s');
      await sleep(200);
    }
  });

  await step('[2] the execution page shows the payload and step output as literal text; nothing runs', async () => {
    await visit(page, `/dashboard/executions/${s.executionId}`, 'execution-hostile');
    equal(JSON.parse(await page.locator('pre.json').first().textContent()), s.payload, 'input shown');
    const output = JSON.parse(await page.locator('ol.steps pre').first().textContent());
    equal(output, { greeting: `hello ${HOSTILE_1}`, note: HOSTILE_3 }, 'step output shown');
    const main = await page.locator('main').textContent();
    check(main.includes(HOSTILE_1), 'the <script> text is not shown literally');
    check(main.includes(`← Executions of ${s.name}`), 'the workflow name is not shown literally');
    const pwned = await page.evaluate(() => typeof window.__pwned);
    equal(pwned, 'undefined', 'typeof window.__pwned');
    const html = await page.content();
    check(!html.includes('<script>window.__pwned'), 'the payload is markup in the page');
    equal(await page.locator('img, svg').count(), 0, 'img/svg elements on the execution page');
  });

  await step('[2] the hostile workflow name is text on every page that shows it', async () => {
    for (const [urlPath, label] of [
      [`/dashboard/workflows/${s.workflowId}`, 'workflow-hostile'],
      [`/dashboard/workflows/${s.workflowId}/executions`, 'executions-hostile'],
      ['/dashboard/workflows', 'workflows-hostile'],
      ['/dashboard/webhooks', 'webhooks-hostile'],
      [`/dashboard/workflows/${s.workflowId}/delete`, 'workflow-delete-confirm-hostile'],
    ]) {
      await visit(page, urlPath, label);
      check((await page.locator('main').textContent()).includes(s.name), `${urlPath}: the name is not shown literally`);
    }
    equal(await text(page, 'h1'), 'Delete workflow', 'confirm page heading');
    await visit(page, `/dashboard/workflows/${s.workflowId}`, 'workflow-hostile-title');
    equal(await text(page, 'h1'), s.name, 'heading of the workflow page');
    equal(await page.title(), `${s.name} · Botcadence`, 'title of the workflow page');
  });

  await step('[2] no dialog opened and no script error or CSP report on these pages', async () => {
    equal(dialogs, [], 'dialogs');
    equal(pageErrors, [], 'page errors');
    equal(cspReports, [], 'Content-Security-Policy reports in the console');
  });
  return s;
}

async function scenarioCrossOrigin(page, workflowId) {
  // A second HTTP server on another port: another origin (same site, since cookies ignore
  // ports) at 127.0.0.1, and another site at localhost.
  const attacker = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const target = url.searchParams.get('target') || '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>A page elsewhere</title>
<form method="post" action="${target.replace(/"/g, '&quot;')}">
<input type="hidden" name="csrf" value="0123456789abcdef">
<button type="submit">Win a prize</button></form>
<script>document.forms[0].submit();</script>`);
  });
  await new Promise((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  const port = attacker.address().port;
  const target = `${daemon.base}/dashboard/workflows/${workflowId}/delete`;
  try {
    await step('[3] a form auto-posted from another origin (same site) is refused with 403', async () => {
      const posted = page.waitForResponse((r) => r.url() === target && r.request().method() === 'POST', { timeout: 20_000 });
      await page.goto(`http://127.0.0.1:${port}/?target=${encodeURIComponent(target)}`);
      const res = await posted;
      await page.waitForURL(target, { timeout: 10_000 });
      await page.waitForLoadState('load');
      equal(res.status(), 403, 'status of the cross-origin POST');
      check((await text(page, 'main')).includes('Cross-origin'), `page text: ${await text(page, 'main')}`);
      await settle(page, 'cross-origin-refused');
      await apiOk('GET', `/v1/workflows/${workflowId}`, { token: daemon.key }, 200);
    });

    await step('[3] a form auto-posted from another site carries no session and changes nothing', async () => {
      const posted = page.waitForResponse((r) => r.url() === target && r.request().method() === 'POST', { timeout: 20_000 });
      await page.goto(`http://localhost:${port}/?target=${encodeURIComponent(target)}`);
      const res = await posted;
      await page.waitForURL(`${daemon.base}/dashboard/login`, { timeout: 10_000 });
      check([303, 403].includes(res.status()), `status of the cross-site POST: ${res.status()}`);
      const cookieSent = (await res.request().allHeaders()).cookie || '';
      check(!cookieSent.includes('bc_session'), 'the session cookie went with a cross-site POST');
      await settle(page, 'cross-site-refused');
      await apiOk('GET', `/v1/workflows/${workflowId}`, { token: daemon.key }, 200);
    });
  } finally {
    attacker.close();
  }

  await step('[3] the session survived; a same-origin POST without the form token gets 403', async () => {
    await visit(page, `/dashboard/workflows/${workflowId}`, 'workflow-after-csrf');
    const results = await page.evaluate(async (url) => {
      const out = {};
      for (const [name, body] of [['none', ''], ['wrong', 'csrf=0123456789abcdef']]) {
        const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
        out[name] = { status: r.status, text: await r.text() };
      }
      return out;
    }, `/dashboard/workflows/${workflowId}/delete`);
    equal(results.none.status, 403, 'POST without csrf');
    equal(results.wrong.status, 403, 'POST with a wrong csrf');
    check(results.none.text.includes('The form has expired'), 'the 403 is not about the form token');
    await apiOk('GET', `/v1/workflows/${workflowId}`, { token: daemon.key }, 200);
  });

  await step('[3] the real Delete button (with its token) does delete', async () => {
    const wf = await apiOk('POST', '/v1/workflows', {
      token: daemon.key,
      body: { name: 'To be deleted', trigger: { type: 'webhook' }, actions: [{ type: 'transform', config: { set: { a: 1 } } }] },
    }, 201);
    await visit(page, `/dashboard/workflows/${wf.id}`, 'workflow-to-delete');
    await navigate(page, () => page.getByRole('link', { name: 'Delete…' }).click());
    equal(pathOf(page), `/dashboard/workflows/${wf.id}/delete`, 'confirm page');
    check((await text(page, 'main')).includes('To be deleted'), 'the confirm page does not name the workflow');
    await settle(page, 'workflow-delete-confirm');
    await navigate(page, () => page.getByRole('button', { name: 'Delete workflow' }).click());
    equal(pathOf(page), '/dashboard/workflows', 'after deleting');
    await settle(page, 'workflows-after-delete');
    equal((await api('GET', `/v1/workflows/${wf.id}`, { token: daemon.key })).status, 404, 'the deleted workflow in the API');
  });
}

async function scenarioRevokedSession() {
  await step('[4] a session whose API key is revoked through the API goes to sign-in', async () => {
    const created = await apiOk('POST', '/v1/api-keys', { token: daemon.key, body: { name: 'second key' } }, 201);
    check(/^bc_live_[0-9a-f]{64}$/.test(created.key), `created key ${JSON.stringify(created)}`);
    const ctx = await newContext(LAPTOP);
    const page = await newPage(ctx);
    await signIn(page, created.key, 'second-key');
    equal(pathOf(page), '/dashboard/overview', 'signed in with the second key, at');
    await settle(page, 'overview-second-key');
    const res = await api('DELETE', `/v1/api-keys/${created.id}`, { token: daemon.key });
    equal(res.status, 204, `DELETE /v1/api-keys/${created.id}`);
    const reload = await page.reload();
    equal(reload.status(), 200, 'status after reload');
    equal(pathOf(page), '/dashboard/login', 'after the revocation, a reload lands on');
    await settle(page, 'revoked-session');
    await visit(page, '/dashboard/settings', 'revoked-session-settings');
    equal(pathOf(page), '/dashboard/login', 'and so does any other page');
    await ctx.close();
  });

  await step('[4] an unknown (expired) session cookie goes to sign-in', async () => {
    const ctx = await newContext(LAPTOP);
    const { hostname } = new URL(daemon.base);
    await ctx.addCookies([{ name: 'bc_session', value: 'ab'.repeat(32), domain: hostname, path: '/dashboard', httpOnly: true, sameSite: 'Strict' }]);
    const page = await newPage(ctx);
    await visit(page, `/dashboard/overview`, 'unknown-session');
    equal(pathOf(page), '/dashboard/login', 'with an unknown session cookie, landed on');
    await ctx.close();
  });
}

async function scenarioOperator(accountPage) {
  await step('[5] an account session gets 403 on /dashboard/operator', async () => {
    await visit(accountPage, '/dashboard/operator', 'operator-as-account', 403);
    check((await text(accountPage, 'main')).includes('operator token'), `page text: ${await text(accountPage, 'main')}`);
  });

  const ctx = await newContext(LAPTOP);
  const page = await newPage(ctx);
  await step('[5] the operator signs in with the admin token and sees the accounts list', async () => {
    await signIn(page, daemon.adminToken, 'operator');
    equal(pathOf(page), '/dashboard/operator', 'the operator lands on');
    equal(await text(page, 'h1'), 'Accounts', 'heading');
    const row = page.locator('tbody tr', { hasText: 'default' });
    equal(await row.count(), 1, 'rows of the default account');
    check((await row.textContent()).includes('pro'), `plan in the row: ${await row.textContent()}`);
    await settle(page, 'operator-accounts');
  });

  await step("[5] the operator opens an account's page", async () => {
    const accounts = await apiOk('GET', '/admin/v1/accounts', { token: daemon.adminToken }, 200);
    const account = accounts.data.find((a) => a.name === 'default');
    await navigate(page, () => page.getByRole('link', { name: 'default', exact: true }).click());
    equal(pathOf(page), `/dashboard/operator/accounts/${account.id}`, 'page');
    equal(await text(page, 'h1'), 'default', 'heading');
    check((await text(page, '.facts')).includes(account.id), 'the account id is not shown');
    const keys = (await apiOk('GET', '/v1/api-keys', { token: daemon.key }, 200)).total;
    equal(await page.locator('table tbody tr').count(), keys, 'keys listed');
    await settle(page, 'operator-account');
  });

  await step("[5] the operator gets 403 on an account's pages", async () => {
    await visit(page, '/dashboard/overview', 'overview-as-operator', 403);
    check((await text(page, 'main')).includes('belongs to an account'), `page text: ${await text(page, 'main')}`);
  });
  await ctx.close();
}

/** The key field takes the focus when the sign-in page opens (`autofocus`: applied when
 *  the page is first drawn, which may be just after `load`). */
async function autofocused(page) {
  await page.waitForFunction(() => document.activeElement?.id === 'key', null, { timeout: 5000 }).catch(async () => {
    throw new Error(`the key field has no focus when the page opens (focus on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 80))})`);
  });
}

async function scenarioKeyboard() {
  await step('[6] the sign-in form is filled and submitted with the keyboard alone', async () => {
    const ctx = await newContext(LAPTOP);
    const page = await newPage(ctx);
    await visit(page, '/dashboard/login', 'sign-in-keyboard');
    const focused = () => page.evaluate(() => {
      const el = document.activeElement;
      return el?.id || el?.textContent?.trim() || el?.tagName;
    });
    await autofocused(page);
    // Back to the top of the page and down again: skip link, brand, the key field.
    await page.keyboard.press('Shift+Tab');
    equal(await focused(), 'Botcadence', 'Shift+Tab from the key field');
    await page.keyboard.press('Shift+Tab');
    equal(await focused(), 'Skip to content', 'the first Tab stop');
    const skip = await page.locator('a.skip').boundingBox();
    check(skip && skip.x >= 0 && skip.y >= 0, `the focused skip link is off screen: ${JSON.stringify(skip)}`);
    shotCount += 1;
    await page.screenshot({ path: path.join(SHOTS, `${String(shotCount).padStart(2, '0')}-sign-in-skip-link-focused-1280.png`) });
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    equal(await focused(), 'key', 'two Tabs from the skip link');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    check(outline !== 'none', 'the focused field shows no outline');
    await page.keyboard.type(daemon.key);
    await page.keyboard.press('Tab');
    equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Sign in', 'focus after Tab from the field');
    await navigate(page, () => page.keyboard.press('Enter'));
    equal(pathOf(page), '/dashboard/overview', 'after Enter on the button');
    await settle(page, 'overview-keyboard');
    // Enter in the field submits too (after signing out with the keyboard).
    await navigate(page, () => page.getByRole('button', { name: 'Sign out' }).press('Enter'));
    equal(pathOf(page), '/dashboard/login', 'signed out with Enter');
    await autofocused(page);
    await page.keyboard.type(daemon.key);
    await navigate(page, () => page.keyboard.press('Enter'));
    equal(pathOf(page), '/dashboard/overview', 'after Enter in the field');
    await settle(page, 'overview-keyboard-enter');
    await ctx.close();
  });
}

async function phonePages(hostileExecution, workflowId) {
  await step('[phone] the main pages at 390 px: readable, nothing scrolls sideways', async () => {
    const ctx = await newContext(PHONE);
    const page = await newPage(ctx);
    await signIn(page, daemon.key, 'phone');
    await settle(page, 'overview');
    for (const [urlPath, label] of [
      ['/dashboard/workflows', 'workflows'],
      [`/dashboard/workflows/${workflowId}`, 'workflow'],
      [`/dashboard/workflows/${workflowId}/executions`, 'executions'],
      [`/dashboard/executions/${hostileExecution}`, 'execution'],
      ['/dashboard/workflows/new', 'workflow-new'],
      ['/dashboard/webhooks', 'webhooks'],
      ['/dashboard/settings', 'settings'],
    ]) {
      await visit(page, urlPath, label);
    }
    await ctx.close();
  });
}

// ---------------------------------------------------------------------------------------

async function main() {
  await step('the daemon starts with a fresh data directory', async () => {
    await startDaemon();
  });
  await step('setup: the account gets the pro plan (the test makes more than 60 requests a minute)', async () => {
    const accounts = await apiOk('GET', '/admin/v1/accounts', { token: daemon.adminToken }, 200);
    const account = accounts.data.find((a) => a.name === 'default');
    await apiOk('PATCH', `/admin/v1/accounts/${account.id}`, { token: daemon.adminToken, body: { plan: 'pro' } }, 200);
  });
  await step('Chromium starts (headless)', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  const laptop = await newContext(LAPTOP);
  const first = await scenarioSignInAndWorkflow(laptop);
  await laptop.close();

  const ctx = await newContext(LAPTOP);
  const page = await newPage(ctx);
  await step('sign in again for the next scenarios', async () => {
    await signIn(page, daemon.key, 'again');
    equal(pathOf(page), '/dashboard/overview', 'landed on');
    await settle(page, 'overview-events');
  });
  const hostile = await scenarioHostileText(page);
  await scenarioCrossOrigin(page, first.workflowId);
  await scenarioRevokedSession();
  await scenarioOperator(page);
  await scenarioKeyboard();
  await phonePages(hostile.executionId, first.workflowId);
  await ctx.close();

  await step(`[7] every dashboard response had the CSP and no page had inline script (${documents.length} responses)`, async () => {
    for (const d of documents) {
      check(d.csp.includes("default-src 'self'") && d.csp.includes("frame-ancestors 'none'"), `${d.url}: CSP "${d.csp}"`);
      check(d.inlineScripts.length === 0, `${d.url}: inline script`);
    }
    const pages = new Set(documents.filter((d) => d.status < 300 || d.status >= 400).map((d) => new URL(d.url).pathname.replace(/(wf|exec|hook|acct|key)_[0-9a-f]+/g, '$1_…')));
    check(pages.size >= 15, `only ${pages.size} distinct pages were seen: ${[...pages].join(' ')}`);
    console.log(`  pages checked: ${[...pages].sort().join(' ')}`);
  });

  await step('no dialog, no script error and no Content-Security-Policy report on any page', async () => {
    equal(dialogs, [], 'dialogs');
    equal(pageErrors, [], 'page errors');
    equal(cspReports, [], 'Content-Security-Policy reports in the console');
  });
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(`FAIL ${currentStep}: ${err.message}`);
  if (lastPage && !lastPage.isClosed()) {
    const file = path.join(SHOTS, `FAILED-${Date.now()}.png`);
    await lastPage.screenshot({ path: file, fullPage: true }).then(() => console.error(`  page at failure: ${lastPage.url()} (${file})`), () => {});
  }
  if (fs.existsSync(daemon.log)) {
    const log = fs.readFileSync(daemon.log, 'utf8').split('\n').slice(-15).join('\n');
    console.error(`  daemon log (${daemon.log}), last lines:\n${log}`);
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  await stopDaemon();
}
console.log(`csp reports in the console: ${cspReports.length ? '\n  ' + cspReports.join('\n  ') : 'none'}`);
console.log(`screenshots in ${SHOTS}`);
if (failed) {
  process.exitCode = 1;
} else {
  fs.rmSync(WORK, { recursive: true, force: true });
  console.log('all dashboard checks passed');
}
