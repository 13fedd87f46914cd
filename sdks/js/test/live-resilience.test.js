// Against a real daemon (sdks/live.py): a POST whose answer was lost is retried and creates
// one object; a 429 is waited out; no answer at all is told apart from an answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  Botcadence, BotcadenceConnectionError, BotcadenceError, BotcadenceTimeoutError,
} from '../src/index.js';
import { closedPort, silentServer } from '../test-support/servers.js';
import { BASE_URL, FREE_RPM, SKIP, newAccount, unique } from '../test-support/live.js';

/** Whether `buf` holds a whole HTTP answer (Content-Length or chunked). */
function completeAnswer(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = buf.subarray(0, end).toString('latin1');
  const length = /^content-length:\s*(\d+)/im.exec(head);
  if (length) return buf.length >= end + 4 + Number(length[1]);
  if (/^transfer-encoding:\s*chunked/im.test(head)) return buf.subarray(-5).toString('latin1') === '0\r\n\r\n';
  return false;
}

/**
 * A TCP proxy in front of the daemon. On its first connection it forwards the request, reads
 * the daemon's whole answer, and closes the client's connection without relaying it: the
 * request took effect, the client heard nothing. Later connections are relayed as they are.
 * Records every request's Idempotency-Key and whether the answers were replays.
 */
async function droppingProxy(target) {
  const { hostname, port } = new URL(target);
  const seen = { connections: 0, keys: [], replayed: [], dropped: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const first = seen.connections === 0;
    seen.connections += 1;
    const upstream = net.connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk) => {
      for (const m of chunk.toString('latin1').matchAll(/^idempotency-key:\s*(\S+)\s*$/gim)) seen.keys.push(m[1]);
      upstream.write(chunk);
    });
    let answer = Buffer.alloc(0);
    upstream.on('data', (chunk) => {
      answer = Buffer.concat([answer, chunk]);
      if (first) {
        if (completeAnswer(answer)) {
          seen.dropped += 1;
          client.destroy();
          upstream.destroy();
        }
        return;
      }
      if (completeAnswer(answer)) {
        seen.replayed.push(/^idempotent-replayed:\s*true/im.test(answer.toString('latin1')));
        answer = Buffer.alloc(0);
      }
      client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('against the daemon: retries', { skip: SKIP }, () => {
  let key;
  let client;
  let proxy;
  before(async () => {
    ({ key, client } = await newAccount('sdk-js-retry'));
    proxy = await droppingProxy(BASE_URL);
  });
  after(async () => {
    await proxy?.close();
  });

  test('a create whose answer was lost is retried with the same Idempotency-Key and creates one workflow', async () => {
    const viaProxy = new Botcadence(key, { baseUrl: `${proxy.url}/v1` });
    const name = unique('once');
    const started = Date.now();
    const created = await viaProxy.workflows.create({
      name, trigger: { type: 'webhook' }, actions: [{ type: 'delay', config: { seconds: 1 } }],
    });
    assert.equal(created.name, name);
    assert.equal(proxy.seen.dropped, 1, 'the first answer was dropped');
    assert.equal(proxy.seen.keys.length, 2, `requests: ${proxy.seen.keys.length}`);
    assert.equal(proxy.seen.keys[0], proxy.seen.keys[1], 'the retry carried the same Idempotency-Key');
    assert.deepEqual(proxy.seen.replayed, [true], 'the retry got the stored answer');
    assert.ok(Date.now() - started >= 250, 'the retry came after a backoff');

    const named = [];
    for await (const wf of client.workflows.iterate({ per_page: 100 })) if (wf.name === name) named.push(wf);
    assert.equal(named.length, 1);
    assert.equal(named[0].id, created.id);
  });

  test('a server that accepts and never answers: timeout error, well under 5 s', async () => {
    const silent = await silentServer();
    try {
      const c = new Botcadence(key, { baseUrl: silent.url });
      const started = Date.now();
      const err = await c.workflows.create({ name: 'x' }, { timeout: 200, maxRetries: 0 }).catch((e) => e);
      assert.ok(err instanceof BotcadenceTimeoutError, String(err));
      assert.equal(err.status, 0);
      assert.ok(Date.now() - started < 5000);
    } finally {
      await silent.close();
    }
  });

  test('a closed port: maxRetries + 1 attempts, then the connection error kind', async () => {
    const port = await closedPort();
    const c = new Botcadence(key, { baseUrl: `http://127.0.0.1:${port}/v1`, maxRetries: 2 });
    const err = await c.workflows.list().catch((e) => e);
    assert.ok(err instanceof BotcadenceConnectionError, String(err));
    assert.ok(!(err instanceof BotcadenceTimeoutError));
    assert.equal(err.attempts, 3);
  });
});

describe('against the daemon: rate limit', { skip: SKIP }, () => {
  test('429 rate_limited with Retry-After; the default retries wait it out', async () => {
    const { key } = await newAccount('sdk-js-free', { plan: 'free' });
    const impatient = new Botcadence(key, { baseUrl: BASE_URL, maxRetries: 0 });
    let refused;
    for (let i = 0; i < FREE_RPM + 5 && !refused; i++) {
      await impatient.workflows.list().catch((e) => {
        refused = e;
      });
    }
    assert.ok(refused instanceof BotcadenceError, `no 429 within ${FREE_RPM + 5} requests`);
    assert.equal(refused.status, 429);
    assert.equal(refused.code, 'rate_limited');
    assert.ok(refused.retryAfter > 0 && refused.retryAfter <= 60, `retryAfter ${refused.retryAfter}`);
    assert.ok(refused.requestId);

    const patient = new Botcadence(key, { baseUrl: BASE_URL });
    const started = Date.now();
    const res = await patient.request('GET', '/v1/workflows');
    const waited = Date.now() - started;
    assert.equal(res.status, 200);
    assert.ok(res.attempts >= 2, `attempts ${res.attempts}`);
    assert.ok(waited >= (refused.retryAfter - 1) * 1000, `waited ${waited} ms, Retry-After was ${refused.retryAfter} s`);
  });
});
