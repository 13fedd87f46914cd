/** Statuses worth another try: the server (or a proxy in front of it) may answer differently. */
export const RETRYABLE_STATUSES = Object.freeze([408, 429, 500, 502, 503, 504]);

/**
 * Statuses that guarantee the server did nothing, so even a request the server cannot
 * deduplicate (a POST without Idempotency-Key support) may be sent again: the daemon stores
 * nothing on a 408 (body not received), 429 (refused before running) or 503 (nothing stored).
 */
export const NOTHING_DONE_STATUSES = Object.freeze([408, 429, 503]);

/** A `Retry-After` longer than this is not waited for: the caller should decide. */
export const MAX_RETRY_AFTER_SECONDS = 60;

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;

/**
 * The wait before retry number `attempt + 1` when the server named none: 0.5 s × 2^attempt,
 * capped at 8 s, then a random point between 50 % and 100 % of it so that many clients
 * refused at once do not come back at once.
 * @param {number} attempt 0 for the wait after the first try.
 * @param {() => number} [random] In [0, 1).
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(BASE_DELAY_MS * 2 ** attempt, MAX_DELAY_MS);
  return ceiling * (0.5 + 0.5 * random());
}

/**
 * `Retry-After` in seconds: delta-seconds or an HTTP date. Null when absent or unreadable.
 * @param {string|null|undefined} value
 * @param {number} [nowMs]
 * @returns {number|null}
 */
export function parseRetryAfter(value, nowMs = Date.now()) {
  if (value == null) return null;
  const text = String(value).trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const when = Date.parse(text);
  if (Number.isNaN(when)) return null;
  return Math.max(0, Math.ceil((when - nowMs) / 1000));
}

/**
 * Error codes of a connection that failed before a full answer arrived. Node's own codes and
 * undici's (the engine behind the global fetch).
 */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN',
  'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

/** Codes meaning the request certainly never reached the server. */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT']);

/** Walks `cause` links for the first error code (fetch wraps the socket's error). */
export function networkErrorCode(err) {
  for (let e = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === 'string') return e.code;
    // An AggregateError (several addresses tried) carries its errors in `errors`.
    if (Array.isArray(e.errors)) {
      for (const inner of e.errors) if (typeof inner?.code === 'string') return inner.code;
    }
  }
  return null;
}

/**
 * How a failed fetch (no answer) should be treated.
 * @returns {{transient: boolean, neverSent: boolean, code: string|null}}
 */
export function classifyNetworkError(err) {
  const code = networkErrorCode(err);
  if (code) {
    return { transient: TRANSIENT_NETWORK_CODES.has(code), neverSent: NEVER_SENT_CODES.has(code), code };
  }
  // undici reports a socket closed mid-answer as "terminated" / "other side closed" at times
  // without a code on the outer error.
  const messages = [];
  for (let e = err, depth = 0; e && depth < 5; e = e.cause, depth++) messages.push(String(e.message));
  const closed = messages.some((m) => /other side closed|terminated|socket hang up|closed/i.test(m));
  return { transient: closed, neverSent: false, code: null };
}
