import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors.js';

const HEX_SHA256_LENGTH = 64;
const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The exact bytes to sign: a signature is over what travelled on the wire, so a parsed and
 * re-serialised object would not match; refuse it loudly rather than return false forever.
 * @returns {Buffer}
 */
function payloadBytes(payload) {
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof ArrayBuffer) return Buffer.from(payload);
  if (ArrayBuffer.isView(payload)) {
    return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  }
  throw new TypeError(
    'payload must be the raw body as a string, Buffer, Uint8Array or ArrayBuffer (not a parsed object)');
}

/** An HMAC key given as text (used as its UTF-8 bytes) or as bytes. */
function keyBytes(secret, what) {
  if (typeof secret === 'string') return Buffer.from(secret, 'utf8');
  if (secret instanceof Uint8Array) return Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength);
  if (secret instanceof ArrayBuffer) return Buffer.from(secret);
  throw new TypeError(`${what} must be a string or bytes`);
}

/**
 * The hex HMAC-SHA256 of the raw payload keyed with the secret's text as given: the value of
 * `X-Botcadence-Signature`, on deliveries and on events sent to a hook with
 * `verify: "hmac_sha256"`.
 * @param {string|Uint8Array|ArrayBuffer} payload
 * @param {string|Uint8Array} secret
 * @returns {string}
 */
export function signPayload(payload, secret) {
  return createHmac('sha256', keyBytes(secret, 'secret')).update(payloadBytes(payload)).digest('hex');
}

/**
 * Checks `X-Botcadence-Signature` as the API reference's `verifySignature` does (HMAC-SHA256
 * of the raw payload keyed with the secret's text, lowercase hex, constant-time comparison),
 * but answers false instead of throwing when the signature is missing, of another length or
 * not hex.
 * @param {string|Uint8Array|ArrayBuffer} payload the raw body, byte for byte
 * @param {string|Uint8Array|null|undefined} signature the header's value
 * @param {string|Uint8Array} secret
 * @returns {boolean}
 */
export function verifySignature(payload, signature, secret) {
  const digest = Buffer.from(signPayload(payload, secret), 'utf8');
  let given;
  if (typeof signature === 'string') given = Buffer.from(signature, 'utf8');
  else if (signature instanceof Uint8Array) given = Buffer.from(signature);
  else return false;
  if (given.length !== HEX_SHA256_LENGTH || given.length !== digest.length) return false;
  return timingSafeEqual(given, digest);
}

/**
 * The Standard Webhooks key: the base64-decoded bytes after `whsec_` (bytes are used as they
 * are).
 */
function standardKey(secret) {
  if (secret instanceof Uint8Array || secret instanceof ArrayBuffer) {
    const key = keyBytes(secret, 'secret');
    if (key.length === 0) throw new WebhookVerificationError('The secret is empty', 'invalid_secret');
    return key;
  }
  if (typeof secret !== 'string') throw new TypeError('secret must be a string or bytes');
  const text = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (text === '' || !BASE64.test(text)) {
    throw new WebhookVerificationError('The secret is not whsec_ followed by base64', 'invalid_secret');
  }
  return Buffer.from(text, 'base64');
}

function standardSignature(key, id, timestamp, body) {
  return createHmac('sha256', key)
    .update(`${id}.${timestamp}.`, 'utf8')
    .update(body)
    .digest('base64');
}

/**
 * A header's value from a plain object (any case; Node's `req.headers`), a fetch `Headers`,
 * a Map or a list of pairs. Repeated headers are joined with a space, which keeps every
 * `v1,…` entry of a repeated `webhook-signature`.
 * @returns {string|undefined}
 */
export function headerValue(headers, name) {
  if (headers == null) return undefined;
  const wanted = name.toLowerCase();
  const join = (v) => (Array.isArray(v) ? v.join(' ') : v == null ? undefined : String(v));
  if (typeof headers.get === 'function' && typeof headers.has === 'function' && !(headers instanceof Map)) {
    const v = headers.get(name);
    return v == null ? undefined : String(v);
  }
  const entries = headers instanceof Map || Array.isArray(headers)
    ? [...headers]
    : Object.entries(headers);
  const found = entries.filter(([k]) => String(k).toLowerCase() === wanted).map(([, v]) => join(v));
  return found.length === 0 ? undefined : found.join(' ');
}

function nowSeconds(now) {
  if (now === undefined) return Math.floor(Date.now() / 1000);
  if (now instanceof Date) return Math.floor(now.getTime() / 1000);
  if (typeof now === 'number') return Math.floor(now / 1000);
  throw new TypeError('now must be a Date or milliseconds since the epoch');
}

/**
 * Verifies a Standard Webhooks request (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`), as the official libraries do: HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` keyed with the base64-decoded secret after `whsec_`; any of
 * the space-separated `v1,<base64>` signatures may match; the timestamp must be within the
 * tolerance of now, either way.
 * @param {string|Uint8Array|ArrayBuffer} payload the raw body, byte for byte
 * @param {object} headers the request's headers (any case)
 * @param {string|Uint8Array} secret `whsec_…`
 * @param {{toleranceSeconds?: number, now?: Date|number}} [options]
 * @returns {unknown} the body parsed as JSON (its text when it is not JSON, undefined when empty)
 * @throws {WebhookVerificationError}
 */
export function verifyStandardWebhook(payload, headers, secret, { toleranceSeconds = 300, now } = {}) {
  const body = payloadBytes(payload);
  const key = standardKey(secret);
  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signatures = headerValue(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError(
      'webhook-id, webhook-timestamp and webhook-signature are required', 'missing_headers');
  }
  if (!/^\d{1,15}$/.test(timestamp.trim())) {
    throw new WebhookVerificationError('webhook-timestamp is not unix seconds', 'invalid_timestamp');
  }
  const sent = Number(timestamp.trim());
  const current = nowSeconds(now);
  if (current - sent > toleranceSeconds) {
    throw new WebhookVerificationError('The message timestamp is too old', 'timestamp_too_old');
  }
  if (sent - current > toleranceSeconds) {
    throw new WebhookVerificationError('The message timestamp is too new', 'timestamp_too_new');
  }
  const expected = Buffer.from(standardSignature(key, id, timestamp.trim(), body), 'utf8');
  let matched = false;
  for (const raw of signatures.split(' ')) {
    // A fetch Headers object joins a repeated header with ", ": drop the separator's comma.
    const entry = raw.endsWith(',') ? raw.slice(0, -1) : raw;
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(entry.slice(comma + 1), 'utf8');
    // Every entry is compared, matched or not, so the time taken does not tell which one did.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) throw new WebhookVerificationError('No matching signature found', 'no_matching_signature');
  const text = body.toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Standard Webhooks headers for a payload, as a sender computes them: for events sent to a
 * hook with `verify: "hmac_sha256"`, or to test a receiver.
 * @param {string|Uint8Array|ArrayBuffer} payload the exact bytes that will be sent
 * @param {string|Uint8Array} secret `whsec_…`
 * @param {{id?: string, timestamp?: Date|number}} [options] timestamp: a Date or unix seconds
 * @returns {{'webhook-id': string, 'webhook-timestamp': string, 'webhook-signature': string}}
 */
export function signStandardWebhook(payload, secret, { id = `msg_${randomUUID()}`, timestamp } = {}) {
  const seconds = timestamp === undefined
    ? Math.floor(Date.now() / 1000)
    : timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : Math.floor(timestamp);
  const signature = standardSignature(standardKey(secret), id, String(seconds), payloadBytes(payload));
  return { 'webhook-id': id, 'webhook-timestamp': String(seconds), 'webhook-signature': `v1,${signature}` };
}
