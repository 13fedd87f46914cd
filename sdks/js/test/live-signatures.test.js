// Against a real daemon (sdks/live.py): the signature functions on real deliveries, and events
// signed by the SDK accepted by a hook that verifies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import {
  BotcadenceError, WebhookVerificationError, signPayload, signStandardWebhook, verifySignature,
  verifyStandardWebhook,
} from '../src/index.js';
import { SKIP, activeWorkflowWithHook, newAccount, sleep, waitForExecution } from '../test-support/live.js';

const { Webhook } = createRequire(import.meta.url)('standardwebhooks');

/** A loopback HTTP server that records each request's raw body and headers. */
async function receiver() {
  const deliveries = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    deliveries,
    async next(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (deliveries.length < count) {
        if (Date.now() > deadline) throw new Error(`no delivery #${count} within ${timeoutMs} ms`);
        await sleep(50);
      }
      return deliveries[count - 1];
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

/** The body with one byte changed. */
const tampered = (body) => {
  const copy = Buffer.from(body);
  copy[copy.length - 2] ^= 0x01;
  return copy;
};

describe('against the daemon: signatures', { skip: SKIP }, () => {
  let client;
  let sink;
  before(async () => {
    ({ client } = await newAccount('sdk-js-sig'));
    sink = await receiver();
  });
  after(async () => {
    await sink?.close();
  });

  test('an http_request delivery verifies with verifySignature and verifyStandardWebhook; a changed byte fails both', async () => {
    const { hook } = await activeWorkflowWithHook(client, [{
      type: 'http_request',
      config: { url: `${sink.url}/hook`, method: 'POST', body: { n: '{{n}}', text: 'héllo ✓' } },
      retry: { max_attempts: 1 },
    }]);
    const { secret } = await client.signingSecret.get();
    const sent = await client.events.send(hook.id, { n: 7 });
    const delivery = await sink.next(1);
    assert.equal((await waitForExecution(client, sent.execution_id)).status, 'success');

    assert.equal(delivery.path, '/hook');
    assert.ok(delivery.headers['x-botcadence-signature']);
    assert.equal(verifySignature(delivery.body, delivery.headers['x-botcadence-signature'], secret), true);
    assert.equal(verifySignature(delivery.body.toString('utf8'), delivery.headers['x-botcadence-signature'], secret), true);
    assert.ok(verifyStandardWebhook(delivery.body, delivery.headers, secret));
    assert.deepEqual(verifyStandardWebhook(delivery.body, delivery.headers, secret), JSON.parse(delivery.body.toString('utf8')));
    // The official library agrees.
    assert.ok(new Webhook(secret).verify(delivery.body.toString('utf8'), delivery.headers));

    const changed = tampered(delivery.body);
    assert.equal(verifySignature(changed, delivery.headers['x-botcadence-signature'], secret), false);
    assert.throws(() => verifyStandardWebhook(changed, delivery.headers, secret), WebhookVerificationError);

    // After a rotation, deliveries are signed with the new secret only.
    const rotated = (await client.signingSecret.rotate()).secret;
    await client.events.send(hook.id, { n: 8 });
    const later = await sink.next(2);
    assert.equal(verifySignature(later.body, later.headers['x-botcadence-signature'], rotated), true);
    assert.equal(verifySignature(later.body, later.headers['x-botcadence-signature'], secret), false);
    assert.ok(verifyStandardWebhook(later.body, later.headers, rotated));
    assert.throws(() => verifyStandardWebhook(later.body, later.headers, secret), WebhookVerificationError);
  });

  test('a hook with verify hmac_sha256 accepts events the SDK signs, and refuses others', async () => {
    const workflow = await client.workflows.create({
      name: 'verified', trigger: { type: 'webhook' }, actions: [{ type: 'delay', config: { seconds: 0 } }], status: 'active',
    });
    const hook = await client.webhooks.create({ workflow_id: workflow.id, event: 'signed', verify: 'hmac_sha256' });
    assert.equal(hook.verify, 'hmac_sha256');
    assert.match(hook.secret, /^whsec_/);
    const body = JSON.stringify({ order: 42, note: 'ü' });

    // X-Botcadence-Signature, computed by events.send itself.
    const hmac = await client.events.send(hook.id, body, { secret: hook.secret });
    assert.match(hmac.execution_id, /^exec_/);
    // Or given as a header.
    await client.events.send(hook.url, body, { headers: { 'X-Botcadence-Signature': signPayload(body, hook.secret) } });

    // Standard Webhooks headers from our signer, and from the official library.
    const standard = await client.events.send(hook.id, body, { headers: signStandardWebhook(body, hook.secret) });
    assert.match(standard.execution_id, /^exec_/);
    const now = new Date();
    const official = {
      'webhook-id': 'msg_official_1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(hook.secret).sign('msg_official_1', now, body),
    };
    await client.events.send(hook.id, body, { headers: official });

    for (const headers of [
      {},
      { 'X-Botcadence-Signature': signPayload(body, `${hook.secret}x`) },
      signStandardWebhook(`${body} `, hook.secret),
      signStandardWebhook(body, hook.secret, { timestamp: Math.floor(Date.now() / 1000) - 3600 }),
    ]) {
      const err = await client.events.send(hook.id, body, { headers }).catch((e) => e);
      assert.ok(err instanceof BotcadenceError, String(err));
      assert.equal(err.status, 401);
      assert.equal(err.code, 'signature_invalid');
      assert.equal(err.attempts, 1);
    }
  });
});
