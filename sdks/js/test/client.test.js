// The client without a daemon: base URL, operation coverage, headers, retries, timeouts and
// errors against small local servers.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  Botcadence, BotcadenceConnectionError, BotcadenceError, BotcadenceTimeoutError, OPERATIONS,
  USER_AGENT, VERSION, methodFor, normalizeBaseUrl,
} from '../src/index.js';
import { backoffDelay, parseRetryAfter } from '../src/retry.js';
import { closedPort, silentServer, stubServer } from '../test-support/servers.js';

const spec = JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8'));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

describe('operations', () => {
  test('every operationId of openapi.json has a client method, and every entry is callable', () => {
    const ids = [];
    for (const item of Object.values(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (['get', 'put', 'post', 'patch', 'delete', 'head', 'options'].includes(method)) ids.push(op.operationId);
      }
    }
    assert.equal(ids.length, new Set(ids).size);
    assert.ok(ids.length >= 28, `only ${ids.length} operations`);
    const client = new Botcadence('key', { baseUrl: 'http://127.0.0.1:1' });
    const missing = ids.filter((id) => !(id in OPERATIONS));
    assert.deepEqual(missing, [], `operations without a method: ${missing.join(', ')}`);
    const stale = Object.keys(OPERATIONS).filter((id) => !ids.includes(id));
    assert.deepEqual(stale, [], `methods for operations the API no longer has: ${stale.join(', ')}`);
    for (const id of ids) assert.equal(typeof methodFor(client, id), 'function', `${id} → ${OPERATIONS[id]}`);
  });
});

describe('base URL', () => {
  let saved;
  beforeEach(() => {
    saved = process.env.BOTCADENCE_BASE_URL;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.BOTCADENCE_BASE_URL;
    else process.env.BOTCADENCE_BASE_URL = saved;
  });

  test('with or without a trailing / or /v1', () => {
    for (const [given, want] of [
      ['https://api.botcadence.com', 'https://api.botcadence.com'],
      ['https://api.botcadence.com/', 'https://api.botcadence.com'],
      ['https://api.botcadence.com/v1', 'https://api.botcadence.com'],
      ['https://api.botcadence.com/v1/', 'https://api.botcadence.com'],
      ['http://127.0.0.1:8080//', 'http://127.0.0.1:8080'],
      ['https://example.com/botcadence/v1', 'https://example.com/botcadence'],
      ['https://example.com/botcadence/', 'https://example.com/botcadence'],
      ['  HTTPS://API.botcadence.com/v1  ', 'https://api.botcadence.com'],
      ['https://example.com/v10', 'https://example.com/v10'],
    ]) assert.equal(normalizeBaseUrl(given), want, given);
    assert.throws(() => normalizeBaseUrl('api.botcadence.com'), TypeError);
    assert.throws(() => normalizeBaseUrl('ftp://api.botcadence.com'), TypeError);
  });

  test('constructor option > BOTCADENCE_BASE_URL > https://api.botcadence.com', () => {
    delete process.env.BOTCADENCE_BASE_URL;
    assert.equal(new Botcadence('k').baseUrl, 'https://api.botcadence.com');
    process.env.BOTCADENCE_BASE_URL = 'http://127.0.0.1:9/v1/';
    assert.equal(new Botcadence('k').baseUrl, 'http://127.0.0.1:9');
    assert.equal(new Botcadence('k', { baseUrl: 'http://localhost:7/v1' }).baseUrl, 'http://localhost:7');
    assert.equal(new Botcadence({ apiKey: 'k', baseUrl: 'http://localhost:8' }).baseUrl, 'http://localhost:8');
    process.env.BOTCADENCE_BASE_URL = '';
    assert.equal(new Botcadence('k').baseUrl, 'https://api.botcadence.com');
  });

  test('bad options are refused at once', () => {
    assert.throws(() => new Botcadence('k', { timeout: 0 }), TypeError);
    assert.throws(() => new Botcadence('k', { maxRetries: -1 }), TypeError);
    assert.throws(() => new Botcadence('k', { maxRetries: 1.5 }), TypeError);
  });
});

describe('retry schedule', () => {
  test('backoff: 0.5 s × 2^attempt capped at 8 s, jittered between 50 % and 100 %', () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const ceiling = Math.min(500 * 2 ** attempt, 8000);
      assert.equal(backoffDelay(attempt, () => 0), ceiling / 2);
      assert.equal(backoffDelay(attempt, () => 0.999999), ceiling * (0.5 + 0.5 * 0.999999));
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt);
        assert.ok(d >= ceiling / 2 && d <= ceiling, `${attempt}: ${d}`);
      }
    }
    assert.equal(backoffDelay(30, () => 0.999999) <= 8000, true);
  });

  test('Retry-After: seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('7'), 7);
    assert.equal(parseRetryAfter(' 0 '), 0);
    assert.equal(parseRetryAfter(null), null);
    assert.equal(parseRetryAfter(''), null);
    assert.equal(parseRetryAfter('soon'), null);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
  });
});

describe('requests', () => {
  let server;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  test('headers: User-Agent with the package version, bearer key, JSON; queries; a GET carries no Idempotency-Key', async () => {
    server = await stubServer(() => ({ body: { data: [], total: 0, page: 2, per_page: 5 } }));
    const client = new Botcadence('bc_live_x', { baseUrl: `${server.url}/v1` });
    const list = await client.workflows.list({ page: 2, per_page: 5, status: undefined });
    assert.deepEqual(list, { data: [], total: 0, page: 2, per_page: 5 });
    const [req] = server.requests;
    assert.equal(req.url, '/v1/workflows?page=2&per_page=5');
    assert.equal(req.headers['user-agent'], `botcadence-js/${pkg.version} (node ${process.version})`);
    assert.equal(USER_AGENT, req.headers['user-agent']);
    assert.equal(VERSION, pkg.version);
    assert.equal(req.headers.authorization, 'Bearer bc_live_x');
    assert.equal(req.headers['idempotency-key'], undefined);
  });

  test('executions.list sends Dates as RFC 3339; ids are path-escaped', async () => {
    server = await stubServer(() => ({ body: { data: [], total: 0, page: 1, per_page: 20 } }));
    const client = new Botcadence('k', { baseUrl: server.url });
    await client.executions.list('wf/1', { status: 'failed', from: new Date('2026-01-02T03:04:05Z'), to: '2026-02-01T00:00:00Z' });
    assert.equal(server.requests[0].url,
      '/v1/workflows/wf%2F1/executions?status=failed&from=2026-01-02T03%3A04%3A05.000Z&to=2026-02-01T00%3A00%3A00Z');
  });

  test('a POST carries one Idempotency-Key, the same on every retry; a caller may pass its own', async () => {
    server = await stubServer((req, body, n) => (n < 3
      ? { status: 503, headers: { 'retry-after': '0' }, body: { error: { code: 'unavailable', message: 'busy' } } }
      : { status: 201, body: { id: 'wf_1', name: 'x' } }));
    const client = new Botcadence('k', { baseUrl: server.url });
    const created = await client.workflows.create({ name: 'x' });
    assert.equal(created.id, 'wf_1');
    const keys = server.requests.map((r) => r.headers['idempotency-key']);
    assert.equal(keys.length, 3);
    assert.match(keys[0], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(new Set(keys).size, 1);
    assert.deepEqual(server.requests.map((r) => JSON.parse(r.body)), [{ name: 'x' }, { name: 'x' }, { name: 'x' }]);

    await client.workflows.create({ name: 'y' });
    assert.notEqual(server.requests[3].headers['idempotency-key'], keys[0]);
    await client.webhooks.create({ workflow_id: 'wf_1', event: 'e' }, { idempotencyKey: 'mine-1' });
    assert.equal(server.requests[4].headers['idempotency-key'], 'mine-1');
    // A header given in any case replaces ours instead of joining it.
    await client.request('POST', '/v1/api-keys', { body: {}, headers: { 'idempotency-key': 'mine-2', 'content-type': 'application/json; charset=utf-8' } });
    assert.equal(server.requests[5].headers['idempotency-key'], 'mine-2');
    assert.equal(server.requests[5].headers['content-type'], 'application/json; charset=utf-8');
  });

  test('the full answer: status, request id, attempts, replayed, rate limit', async () => {
    server = await stubServer(() => ({
      status: 201,
      headers: { 'idempotent-replayed': 'true', 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '59', 'x-ratelimit-reset': '1700000000' },
      body: { id: 'wf_1' },
    }));
    const client = new Botcadence('k', { baseUrl: server.url });
    const res = await client.request('POST', '/v1/workflows', { body: { name: 'x' } });
    assert.equal(res.status, 201);
    assert.equal(res.requestId, 'req_1');
    assert.equal(res.attempts, 1);
    assert.equal(res.replayed, true);
    assert.deepEqual(res.rateLimit, { limit: 60, remaining: 59, reset: 1700000000 });
    assert.deepEqual(res.data, { id: 'wf_1' });
  });

  test('an error answer is a BotcadenceError with status, code, message, details, requestId, retryAfter', async () => {
    server = await stubServer(() => ({
      status: 400,
      body: { error: { code: 'invalid_request', message: "The 'name' field is required", details: { field: 'name', issue: 'required' } } },
    }));
    const client = new Botcadence('k', { baseUrl: server.url });
    const err = await client.workflows.create({}).catch((e) => e);
    assert.ok(err instanceof BotcadenceError);
    assert.ok(!(err instanceof BotcadenceConnectionError));
    assert.equal(err.name, 'BotcadenceError');
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_request');
    assert.equal(err.message, "The 'name' field is required");
    assert.deepEqual(err.details, { field: 'name', issue: 'required' });
    assert.equal(err.requestId, 'req_1');
    assert.equal(err.retryAfter, null);
    assert.equal(err.attempts, 1);
    assert.equal(server.requests.length, 1, 'a 400 is not retried');
  });

  test('an answer that is not the error envelope still makes a typed error', async () => {
    server = await stubServer(() => ({ status: 502, body: 'Bad Gateway' }));
    const client = new Botcadence('k', { baseUrl: server.url, maxRetries: 0 });
    const err = await client.workflows.get('wf_1').catch((e) => e);
    assert.equal(err.status, 502);
    assert.equal(err.code, 'http_502');
    assert.equal(err.message, 'Bad Gateway');
    assert.equal(err.details, null);
  });

  test('429 with Retry-After is waited for, then retried', async () => {
    server = await stubServer((req, body, n) => (n === 1
      ? { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'rate_limited', message: 'slow down' } } }
      : { body: { status: 'ok' } }));
    const client = new Botcadence('k', { baseUrl: server.url });
    const started = Date.now();
    const res = await client.request('GET', '/v1/workflows');
    assert.ok(Date.now() - started >= 950, `waited ${Date.now() - started} ms`);
    assert.equal(res.attempts, 2);
  });

  test('a Retry-After over 60 s is not waited for: the 429 is raised with retryAfter', async () => {
    server = await stubServer(() => ({ status: 429, headers: { 'retry-after': '3600' }, body: { error: { code: 'rate_limited', message: 'day' } } }));
    const client = new Botcadence('k', { baseUrl: server.url });
    const started = Date.now();
    const err = await client.workflows.list().catch((e) => e);
    assert.ok(Date.now() - started < 1000);
    assert.equal(err.status, 429);
    assert.equal(err.code, 'rate_limited');
    assert.equal(err.retryAfter, 3600);
    assert.equal(server.requests.length, 1);
  });

  test('500, 502, 504 are retried maxRetries times with backoff; 400-class answers are not', async () => {
    server = await stubServer(() => ({ status: 500, body: { error: { code: 'internal_error', message: 'boom' } } }));
    const client = new Botcadence('k', { baseUrl: server.url, maxRetries: 1 });
    const started = Date.now();
    const err = await client.workflows.get('wf_1').catch((e) => e);
    const took = Date.now() - started;
    assert.equal(err.status, 500);
    assert.equal(err.attempts, 2);
    assert.equal(server.requests.length, 2);
    assert.ok(took >= 240 && took < 2000, `took ${took} ms`);
    // Per call, the client's setting is overridden.
    await client.workflows.get('wf_1', { maxRetries: 0 }).catch(() => {});
    assert.equal(server.requests.length, 3);
  });

  test('operator POSTs (no server-side deduplication) are retried only when nothing was done', async () => {
    let status = 500;
    server = await stubServer(() => ({ status, headers: { 'retry-after': '0' }, body: { error: { code: 'x', message: 'y' } } }));
    const client = new Botcadence('admin', { baseUrl: server.url });
    await client.admin.accounts.create({ name: 'a' }).catch(() => {});
    assert.equal(server.requests.length, 1, 'a 500 on a POST without deduplication may have created it');
    assert.equal(server.requests[0].headers['idempotency-key'], undefined);
    status = 503;
    await client.admin.accounts.create({ name: 'a' }).catch(() => {});
    assert.equal(server.requests.length, 4, 'a 503 stored nothing: retried twice');
  });

  test('a 409 conflict after an attempt that got no answer is the first attempt still running: retried', async () => {
    server = await stubServer((req, body, n) => {
      if (n === 1) return 'drop';
      if (n === 2) return { status: 409, headers: { 'retry-after': '0' }, body: { error: { code: 'conflict', message: 'still running' } } };
      return { status: 201, headers: { 'idempotent-replayed': 'true' }, body: { id: 'wf_1' } };
    });
    const client = new Botcadence('k', { baseUrl: server.url });
    const res = await client.request('POST', '/v1/workflows', { body: { name: 'x' } });
    assert.equal(res.attempts, 3);
    assert.equal(res.replayed, true);
    assert.equal(new Set(server.requests.map((r) => r.headers['idempotency-key'])).size, 1);
  });

  test('once an attempt went unanswered, every later 409 conflict is waited out', async () => {
    server = await stubServer((req, body, n) => {
      if (n === 1) return 'drop';
      if (n <= 3) return { status: 409, body: { error: { code: 'conflict', message: 'still running' } } };
      return { status: 201, body: { id: 'wf_1' } };
    });
    const client = new Botcadence('k', { baseUrl: server.url, maxRetries: 3 });
    const res = await client.request('POST', '/v1/workflows', { body: { name: 'x' } });
    assert.equal(res.attempts, 4);
  });

  test('a 409 conflict on a first attempt is raised', async () => {
    server = await stubServer(() => ({ status: 409, body: { error: { code: 'conflict', message: 'other body' } } }));
    const client = new Botcadence('k', { baseUrl: server.url });
    const err = await client.workflows.create({ name: 'x' }, { idempotencyKey: 'k1' }).catch((e) => e);
    assert.equal(err.status, 409);
    assert.equal(server.requests.length, 1);
  });

  test('204 gives undefined; text answers give text', async () => {
    server = await stubServer((req) => (req.method === 'DELETE' ? { status: 204 } : { body: '# HELP x\nx 1\n' }));
    const client = new Botcadence('k', { baseUrl: server.url });
    assert.equal(await client.workflows.delete('wf_1'), undefined);
    assert.equal(await client.system.metrics(), '# HELP x\nx 1\n');
    assert.equal(server.requests[1].headers.authorization, undefined, 'probes go without the key');
  });

  test('events.send: raw bytes exactly, objects as JSON, to an id or a URL, with a key and no API key', async () => {
    server = await stubServer(() => ({ status: 202, body: { execution_id: 'exec_1', status: 'queued' } }));
    const client = new Botcadence('bc_live_secret', { baseUrl: server.url });
    const raw = '{ "b":2,  "a":1 }';
    await client.events.send('hook_1', raw);
    await client.events.send(`${server.url}/webhooks/hook_2`, { a: 1 }, { idempotencyKey: 'evt-1', headers: { 'webhook-id': 'm' } });
    await client.events.send('hook_3', Buffer.from(raw), { secret: 'whsec_abc' });
    const [a, b, c] = server.requests;
    assert.equal(a.url, '/webhooks/hook_1');
    assert.equal(a.body, raw);
    assert.equal(a.headers['content-type'], 'application/json');
    assert.match(a.headers['idempotency-key'], /^[0-9a-f-]{36}$/);
    assert.equal(a.headers.authorization, undefined);
    assert.equal(b.url, '/webhooks/hook_2');
    assert.equal(b.body, '{"a":1}');
    assert.equal(b.headers['idempotency-key'], 'evt-1');
    assert.equal(b.headers['webhook-id'], 'm');
    assert.equal(c.body, raw);
    const { signPayload } = await import('../src/index.js');
    assert.equal(c.headers['x-botcadence-signature'], signPayload(raw, 'whsec_abc'));
  });

  test('versions, replays and shadow replays: methods, paths, bodies, queries', async () => {
    server = await stubServer((req) => (req.url.includes('/versions') || req.url.includes('/results')
      ? { body: { data: [], total: 0, page: 1, per_page: 20 } }
      : { status: req.method === 'POST' ? 202 : 200, body: { id: 'rpl_1', status: 'running' } }));
    const client = new Botcadence('k', { baseUrl: server.url });
    await client.workflowVersions.list('wf/1', { page: 2, per_page: 5 });
    await client.workflowVersions.get('wf_1', 3);
    assert.throws(() => client.workflowVersions.get('wf_1', 0), TypeError);
    assert.throws(() => client.workflowVersions.get('wf_1', '1'), TypeError);
    assert.deepEqual(await client.replays.create('wf_1', { status: 'failed', from: new Date('2026-01-02T03:04:05Z'), limit: 50 }),
      { id: 'rpl_1', status: 'running' });
    await client.replays.count('wf_1', { to: '2026-02-01T00:00:00Z' });
    await client.replays.create('wf_1');
    await client.replays.get('rpl_1');
    assert.deepEqual(await client.replays.cancel('rpl_1'), { id: 'rpl_1', status: 'running' });
    await client.shadowReplays.create('wf_1', { definition: { actions: [{ type: 'delay', config: { seconds: 0 } }] }, limit: 10 });
    await client.shadowReplays.create('wf_1', { version: 2 }, { idempotencyKey: 'shadow-1' });
    await client.shadowReplays.get('shr_1');
    await client.shadowReplays.cancel('shr_1');
    await client.shadowReplays.results('shr_1', { changed: true, per_page: 10 });
    assert.deepEqual(await client.shadowReplays.iterateResults('shr_1', { changed: false }).toArray(), []);

    assert.deepEqual(server.requests.map((r) => `${r.method} ${r.url}`), [
      'GET /v1/workflows/wf%2F1/versions?page=2&per_page=5',
      'GET /v1/workflows/wf_1/versions/3',
      'POST /v1/workflows/wf_1/replays',
      'POST /v1/workflows/wf_1/replays',
      'POST /v1/workflows/wf_1/replays',
      'GET /v1/replays/rpl_1',
      'DELETE /v1/replays/rpl_1',
      'POST /v1/workflows/wf_1/shadow-replays',
      'POST /v1/workflows/wf_1/shadow-replays',
      'GET /v1/shadow-replays/shr_1',
      'DELETE /v1/shadow-replays/shr_1',
      'GET /v1/shadow-replays/shr_1/results?changed=true&per_page=10',
      'GET /v1/shadow-replays/shr_1/results?changed=false&page=1',
    ]);
    const bodies = server.requests.map((r) => (r.body === '' ? undefined : JSON.parse(r.body)));
    assert.deepEqual(bodies[2], { status: 'failed', from: '2026-01-02T03:04:05.000Z', limit: 50 });
    assert.deepEqual(bodies[3], { to: '2026-02-01T00:00:00Z', dry_run: true });
    assert.deepEqual(bodies[4], {});
    assert.deepEqual(bodies[7], { definition: { actions: [{ type: 'delay', config: { seconds: 0 } }] }, limit: 10 });
    assert.deepEqual(bodies[8], { version: 2 });
    // Every POST is deduplicated by the server: each carries its own Idempotency-Key.
    const keys = server.requests.filter((r) => r.method === 'POST').map((r) => r.headers['idempotency-key']);
    assert.equal(keys.length, 5);
    assert.equal(new Set(keys).size, 5);
    assert.equal(keys[4], 'shadow-1');
    assert.ok(server.requests.filter((r) => r.method !== 'POST').every((r) => r.headers['idempotency-key'] === undefined));
  });

  test('pagination: pages are fetched until total is reached, or a page is empty', async () => {
    const items = Array.from({ length: 7 }, (_, i) => ({ id: `wf_${i}` }));
    server = await stubServer((req) => {
      const q = new URL(req.url, 'http://x').searchParams;
      const page = Number(q.get('page') ?? 1);
      const per = Number(q.get('per_page') ?? 20);
      return { body: { data: items.slice((page - 1) * per, page * per), total: items.length, page, per_page: per } };
    });
    const client = new Botcadence('k', { baseUrl: server.url });
    const seen = [];
    for await (const wf of client.workflows.iterate({ per_page: 3 })) seen.push(wf.id);
    assert.deepEqual(seen, items.map((i) => i.id));
    assert.equal(server.requests.length, 3);
    const pages = [];
    for await (const page of client.webhooks.iterate({ per_page: 7 }).byPage()) pages.push(page.data.length);
    assert.deepEqual(pages, [7]);
    assert.equal(server.requests.length, 4, 'a full last page ends the walk without asking for an empty one');
    assert.deepEqual((await client.executions.iterate('wf_1', { per_page: 100 }).toArray()).length, 7);
    assert.deepEqual((await client.workflowVersions.iterate('wf_1', { per_page: 2 }).toArray()).length, 7);
    assert.deepEqual((await client.shadowReplays.iterateResults('shr_1', { per_page: 4 }).toArray()).length, 7);
  });

  test('pagination stops on an empty page even if total says more', async () => {
    server = await stubServer((req) => {
      const page = Number(new URL(req.url, 'http://x').searchParams.get('page'));
      return { body: { data: page === 1 ? [{ id: 'a' }] : [], total: 5, page, per_page: 1 } };
    });
    const client = new Botcadence('k', { baseUrl: server.url });
    assert.deepEqual(await client.workflows.iterate({ per_page: 1 }).toArray(), [{ id: 'a' }]);
    assert.equal(server.requests.length, 2);
  });
});

describe('no answer', () => {
  test('a server that never answers: the timeout error kind, fast', async () => {
    const silent = await silentServer();
    try {
      const client = new Botcadence('k', { baseUrl: silent.url });
      const started = Date.now();
      const err = await client.workflows.list({}, { timeout: 200, maxRetries: 0 }).catch((e) => e);
      const took = Date.now() - started;
      assert.ok(err instanceof BotcadenceTimeoutError, String(err));
      assert.ok(err instanceof BotcadenceConnectionError);
      assert.ok(err instanceof BotcadenceError);
      assert.equal(err.status, 0);
      assert.equal(err.code, 'timeout');
      assert.equal(err.attempts, 1);
      assert.ok(took >= 190 && took < 2000, `took ${took} ms`);
    } finally {
      await silent.close();
    }
  });

  test('the client default timeout applies, and a timed-out GET is retried', async () => {
    const silent = await silentServer();
    try {
      const client = new Botcadence('k', { baseUrl: silent.url, timeout: 100, maxRetries: 1 });
      const err = await client.workflows.get('wf_1').catch((e) => e);
      assert.ok(err instanceof BotcadenceTimeoutError);
      assert.equal(err.attempts, 2);
    } finally {
      await silent.close();
    }
  });

  test('a refused connection is retried maxRetries times, then a connection error', async () => {
    const port = await closedPort();
    const client = new Botcadence('k', { baseUrl: `http://127.0.0.1:${port}` });
    const started = Date.now();
    const err = await client.workflows.create({ name: 'x' }).catch((e) => e);
    const took = Date.now() - started;
    assert.ok(err instanceof BotcadenceConnectionError, String(err));
    assert.ok(!(err instanceof BotcadenceTimeoutError));
    assert.equal(err.status, 0);
    assert.equal(err.code, 'connection_error');
    assert.equal(err.attempts, 3);
    assert.match(err.message, /ECONNREFUSED/);
    // Two backoffs: 250–500 ms, then 500–1000 ms.
    assert.ok(took >= 700 && took < 4000, `took ${took} ms`);
  });

  test('a refused operator POST is retried too: it never reached the server', async () => {
    const port = await closedPort();
    const client = new Botcadence('k', { baseUrl: `http://127.0.0.1:${port}`, maxRetries: 1 });
    const err = await client.admin.accounts.create({ name: 'x' }).catch((e) => e);
    assert.equal(err.attempts, 2);
  });

  test('a connection closed before the answer: a GET is retried, an operator POST is not', async () => {
    const server = await stubServer((req, body, n) => (n === 1 || req.url.startsWith('/admin') ? 'drop' : { body: { ok: true } }));
    try {
      const client = new Botcadence('k', { baseUrl: server.url });
      const res = await client.request('GET', '/v1/workflows');
      assert.equal(res.attempts, 2);
      const err = await client.admin.accounts.create({ name: 'x' }, { maxRetries: 2 }).catch((e) => e);
      assert.ok(err instanceof BotcadenceConnectionError, String(err));
      assert.equal(err.attempts, 1, 'it may have been created: not sent again');
      assert.equal(server.requests.length, 3);
    } finally {
      await server.close();
    }
  });

  test('an aborted signal stops the call, retries and all', async () => {
    const silent = await silentServer();
    try {
      const client = new Botcadence('k', { baseUrl: silent.url });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const err = await client.workflows.list({}, { signal: controller.signal }).catch((e) => e);
      assert.equal(err.name, 'AbortError');
    } finally {
      await silent.close();
    }
  });
});
