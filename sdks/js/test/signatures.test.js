import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import {
  WebhookVerificationError, signPayload, signStandardWebhook, verifySignature, verifyStandardWebhook,
} from '../src/index.js';

const require = createRequire(import.meta.url);
const { Webhook } = require('standardwebhooks');

// The API reference's verifySignature, verbatim (a CommonJS snippet: `require` is given).
const crypto = require('crypto');

function referenceVerifySignature(payload, signature, secret) {
  const hmac = crypto.createHmac('sha256', secret);
  const digest = hmac.update(payload).digest('hex');
  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(digest)
  );
}

// The Standard Webhooks specification's own example.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PAYLOAD = '{"test": 2432232314}';
const MSG_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TIMESTAMP = 1614265330;
const V1 = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const AT = new Date(TIMESTAMP * 1000);
const HEADERS = { 'webhook-id': MSG_ID, 'webhook-timestamp': String(TIMESTAMP), 'webhook-signature': V1 };

test('signPayload: fixed vectors (hex HMAC-SHA256 keyed with the secret text)', () => {
  assert.equal(signPayload(PAYLOAD, SECRET), '80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c');
  assert.equal(signPayload(Uint8Array.from([0xff, 0x00, 0xc3]), 'secret'),
    '47e8218689f80fb125ec7c0f0c1cc54920ee73c2c9f9738df1df5abe54441189');
});

test('verifySignature accepts strings, Buffers, Uint8Arrays and ArrayBuffers', () => {
  const sig = '80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c';
  const bytes = Buffer.from(PAYLOAD);
  assert.equal(verifySignature(PAYLOAD, sig, SECRET), true);
  assert.equal(verifySignature(bytes, sig, SECRET), true);
  assert.equal(verifySignature(new Uint8Array(bytes), sig, SECRET), true);
  assert.equal(verifySignature(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), sig, SECRET), true);
  assert.equal(verifySignature(PAYLOAD, Buffer.from(sig), SECRET), true);
  assert.equal(verifySignature(PAYLOAD, sig, Buffer.from(SECRET)), true);
});

test('verifySignature is false, never a throw, for wrong, short, long, non-hex or missing signatures', () => {
  const sig = signPayload(PAYLOAD, SECRET);
  assert.equal(verifySignature(PAYLOAD + ' ', sig, SECRET), false);
  assert.equal(verifySignature(PAYLOAD, sig, SECRET + 'x'), false);
  assert.equal(verifySignature(PAYLOAD, sig.slice(1), SECRET), false);
  assert.equal(verifySignature(PAYLOAD, sig + '0', SECRET), false);
  assert.equal(verifySignature(PAYLOAD, '', SECRET), false);
  assert.equal(verifySignature(PAYLOAD, 'z'.repeat(64), SECRET), false);
  assert.equal(verifySignature(PAYLOAD, 'é'.repeat(32), SECRET), false); // 64 bytes of UTF-8, 32 characters
  assert.equal(verifySignature(PAYLOAD, sig.toUpperCase(), SECRET), false); // lowercase hex, as the reference
  assert.equal(verifySignature(PAYLOAD, undefined, SECRET), false);
  assert.equal(verifySignature(PAYLOAD, null, SECRET), false);
  assert.equal(verifySignature(PAYLOAD, ['a'], SECRET), false);
});

test('verifySignature refuses a parsed object: a signature is over the raw bytes', () => {
  assert.throws(() => verifySignature(JSON.parse(PAYLOAD), 'x', SECRET), TypeError);
});

test('verifySignature agrees with the reference implementation on random inputs', () => {
  for (let i = 0; i < 300; i++) {
    const payload = randomBytes(i % 40);
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const good = signPayload(payload, secret);
    const candidates = [good, signPayload(randomBytes(3), secret), good.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))];
    for (const sig of candidates) {
      assert.equal(verifySignature(payload, sig, secret), referenceVerifySignature(payload, sig, secret));
    }
    // Where the reference throws (a length mismatch), ours answers false.
    assert.throws(() => referenceVerifySignature(payload, good.slice(2), secret));
    assert.equal(verifySignature(payload, good.slice(2), secret), false);
  }
});

test('verifyStandardWebhook: the specification example', () => {
  assert.deepEqual(verifyStandardWebhook(PAYLOAD, HEADERS, SECRET, { now: AT }), { test: 2432232314 });
  assert.deepEqual(verifyStandardWebhook(Buffer.from(PAYLOAD), HEADERS, SECRET, { now: AT.getTime() + 299_000 }),
    { test: 2432232314 });
});

test('verifyStandardWebhook: headers in any case, a Headers object, a Map, pairs', () => {
  const upper = Object.fromEntries(Object.entries(HEADERS).map(([k, v]) => [k.toUpperCase(), v]));
  assert.ok(verifyStandardWebhook(PAYLOAD, upper, SECRET, { now: AT }));
  assert.ok(verifyStandardWebhook(PAYLOAD, new Headers(HEADERS), SECRET, { now: AT }));
  assert.ok(verifyStandardWebhook(PAYLOAD, new Map(Object.entries(upper)), SECRET, { now: AT }));
  assert.ok(verifyStandardWebhook(PAYLOAD, Object.entries(HEADERS), SECRET, { now: AT }));
});

test('verifyStandardWebhook: any one of several signatures may match (key rotation)', () => {
  const other = signStandardWebhook(PAYLOAD, `whsec_${randomBytes(24).toString('base64')}`,
    { id: MSG_ID, timestamp: TIMESTAMP })['webhook-signature'];
  for (const sigs of [`${other} ${V1}`, `${V1} ${other}`, `v2,abc ${V1}`, `${other}`]) {
    const headers = { ...HEADERS, 'webhook-signature': sigs };
    if (sigs === other) {
      assert.throws(() => verifyStandardWebhook(PAYLOAD, headers, SECRET, { now: AT }),
        (e) => e instanceof WebhookVerificationError && e.reason === 'no_matching_signature');
    } else {
      assert.ok(verifyStandardWebhook(PAYLOAD, headers, SECRET, { now: AT }));
    }
  }
  // Node's req.headers gives a repeated header as an array; fetch's Headers joins it with ", ".
  assert.ok(verifyStandardWebhook(PAYLOAD, { ...HEADERS, 'webhook-signature': [other, V1] }, SECRET, { now: AT }));
  const joined = new Headers([['webhook-id', MSG_ID], ['webhook-timestamp', String(TIMESTAMP)],
    ['webhook-signature', other], ['webhook-signature', V1]]);
  assert.ok(verifyStandardWebhook(PAYLOAD, joined, SECRET, { now: AT }));
});

test('verifyStandardWebhook: failures are WebhookVerificationError with a reason', () => {
  const fails = (payload, headers, reason, options = { now: AT }, secret = SECRET) => assert.throws(
    () => verifyStandardWebhook(payload, headers, secret, options),
    (e) => e instanceof WebhookVerificationError && e.reason === reason, reason);
  fails(PAYLOAD.replace('2', '3'), HEADERS, 'no_matching_signature');
  fails(PAYLOAD + ' ', HEADERS, 'no_matching_signature');
  fails(PAYLOAD, { ...HEADERS, 'webhook-id': 'msg_other' }, 'no_matching_signature');
  fails(PAYLOAD, { ...HEADERS, 'webhook-signature': V1.replace('v1,', 'v2,') }, 'no_matching_signature');
  fails(PAYLOAD, { ...HEADERS, 'webhook-signature': 'v1,' }, 'no_matching_signature');
  fails(PAYLOAD, { 'webhook-id': MSG_ID, 'webhook-signature': V1 }, 'missing_headers');
  fails(PAYLOAD, {}, 'missing_headers');
  fails(PAYLOAD, { ...HEADERS, 'webhook-timestamp': 'soon' }, 'invalid_timestamp');
  fails(PAYLOAD, HEADERS, 'timestamp_too_old', { now: AT.getTime() + 301_000 });
  fails(PAYLOAD, HEADERS, 'timestamp_too_new', { now: AT.getTime() - 301_000 });
  fails(PAYLOAD, HEADERS, 'timestamp_too_old', { now: AT.getTime() + 11_000, toleranceSeconds: 10 });
  fails(PAYLOAD, HEADERS, 'invalid_secret', { now: AT }, 'whsec_not base64!');
  fails(PAYLOAD, HEADERS, 'invalid_secret', { now: AT }, 'whsec_');
  assert.throws(() => verifyStandardWebhook({ test: 1 }, HEADERS, SECRET, { now: AT }), TypeError);
});

test('verifyStandardWebhook: the body back, parsed when JSON', () => {
  const text = 'not json';
  const h = signStandardWebhook(text, SECRET, { id: 'm1', timestamp: AT });
  assert.equal(verifyStandardWebhook(text, h, SECRET, { now: AT }), text);
  const empty = signStandardWebhook('', SECRET, { id: 'm2', timestamp: AT });
  assert.equal(verifyStandardWebhook('', empty, SECRET, { now: AT }), undefined);
});

test('signStandardWebhook reproduces the specification example, and the official library accepts it', () => {
  assert.deepEqual(signStandardWebhook(PAYLOAD, SECRET, { id: MSG_ID, timestamp: TIMESTAMP }), HEADERS);
  const payload = JSON.stringify({ n: 'ü', at: Date.now() });
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const headers = signStandardWebhook(payload, secret);
  assert.match(headers['webhook-id'], /^msg_/);
  assert.deepEqual(new Webhook(secret).verify(payload, headers), JSON.parse(payload));
});

test('the official library signs, our verifier accepts (and refuses a changed byte)', () => {
  for (let i = 0; i < 50; i++) {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const payload = JSON.stringify({ i, s: randomBytes(8).toString('hex'), u: 'é✓' });
    const id = `msg_${i}`;
    const now = new Date();
    const signature = new Webhook(secret).sign(id, now, payload);
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature };
    assert.deepEqual(verifyStandardWebhook(payload, headers, secret), JSON.parse(payload));
    assert.throws(() => verifyStandardWebhook(payload.replace('"i"', '"j"'), headers, secret), WebhookVerificationError);
  }
});

test('legacy hex secrets (whsec_ + 48 hex digits) work as base64, as the official library reads them', () => {
  const secret = `whsec_${randomBytes(24).toString('hex')}`;
  const id = 'msg_legacy';
  const now = new Date();
  const headers = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, now, PAYLOAD) };
  assert.ok(verifyStandardWebhook(PAYLOAD, headers, secret));
});
