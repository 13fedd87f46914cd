import { randomUUID } from 'node:crypto';
import { BotcadenceConnectionError, BotcadenceError, BotcadenceTimeoutError } from './errors.js';
import {
  MAX_RETRY_AFTER_SECONDS, NOTHING_DONE_STATUSES, RETRYABLE_STATUSES, backoffDelay,
  classifyNetworkError, parseRetryAfter,
} from './retry.js';
import { USER_AGENT } from './version.js';
import {
  Admin, ApiKeys, Events, Executions, Replays, ShadowReplays, SigningSecret, System, Webhooks,
  WorkflowVersions, Workflows,
} from './resources.js';

export const DEFAULT_BASE_URL = 'https://api.botcadence.com';
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 2;

/**
 * The API's root, from what a user may write: the reference gives
 * `https://api.botcadence.com/v1`, and the spec's paths carry `/v1` themselves, so a trailing
 * `/v1` (and any trailing `/`) is dropped. A path prefix before it is kept (a daemon behind a
 * reverse proxy under `/botcadence`).
 * @param {string|URL} url
 * @returns {string} origin plus prefix, no trailing slash
 */
export function normalizeBaseUrl(url) {
  let parsed;
  try {
    parsed = new URL(String(url).trim());
  } catch {
    throw new TypeError(`Not a valid base URL: ${String(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`The base URL must be http:// or https://, not ${parsed.protocol}`);
  }
  let path = parsed.pathname.replace(/\/+$/, '');
  if (path.endsWith('/v1')) path = path.slice(0, -'/v1'.length).replace(/\/+$/, '');
  return parsed.origin + path;
}

function nonNegativeInteger(value, name) {
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer`);
  return value;
}

function positiveNumber(value, name) {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a positive number of milliseconds`);
  }
  return value;
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function queryString(query) {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    search.append(key, value instanceof Date ? value.toISOString() : String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** How a connection error may be retried; kept off the error object the caller sees. */
const noAnswer = new WeakMap();

function isBytes(value) {
  return value instanceof Uint8Array || value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/**
 * The Botcadence API client.
 *
 * ```js
 * const client = new Botcadence('bc_live_…');
 * const workflows = await client.workflows.list();
 * ```
 */
export class Botcadence {
  #apiKey;
  #fetch;

  /**
   * @param {string|object} [apiKey] the API key (or the admin token for `client.admin`), or
   *   the options object with `apiKey` in it
   * @param {object} [options]
   * @param {string} [options.apiKey] when the first argument is the options object
   * @param {string} [options.baseUrl] > env BOTCADENCE_BASE_URL > https://api.botcadence.com
   * @param {number} [options.timeout] ms per attempt, 30 000 by default
   * @param {number} [options.maxRetries] 2 by default
   * @param {Record<string,string>} [options.headers] sent with every request
   * @param {typeof fetch} [options.fetch] a fetch to use instead of the global one
   */
  constructor(apiKey, options) {
    if (apiKey !== null && typeof apiKey === 'object') {
      options = apiKey;
      apiKey = options.apiKey;
    }
    options = options ?? {};
    const env = typeof process !== 'undefined' ? process.env : {};
    this.#apiKey = apiKey ?? options.apiKey ?? (env.BOTCADENCE_API_KEY || null);
    this.baseUrl = normalizeBaseUrl(options.baseUrl || env.BOTCADENCE_BASE_URL || DEFAULT_BASE_URL);
    this.timeout = positiveNumber(options.timeout ?? DEFAULT_TIMEOUT_MS, 'timeout');
    this.maxRetries = nonNegativeInteger(options.maxRetries ?? DEFAULT_MAX_RETRIES, 'maxRetries');
    this.defaultHeaders = { ...(options.headers ?? {}) };
    this.#fetch = options.fetch ?? globalThis.fetch;
    if (typeof this.#fetch !== 'function') {
      throw new TypeError('No fetch available: use Node.js 18 or later, or pass options.fetch');
    }

    this.workflows = new Workflows(this);
    this.workflowVersions = new WorkflowVersions(this);
    this.executions = new Executions(this);
    this.replays = new Replays(this);
    this.shadowReplays = new ShadowReplays(this);
    this.webhooks = new Webhooks(this);
    this.apiKeys = new ApiKeys(this);
    this.signingSecret = new SigningSecret(this);
    this.events = new Events(this);
    this.system = new System(this);
    this.admin = new Admin(this);
  }

  /**
   * Whether the server deduplicates a POST to this URL by its `Idempotency-Key`: every `/v1`
   * POST and event ingestion do; the operator API (`/admin/v1`) does not.
   */
  #serverDeduplicates(url) {
    const root = new URL(this.baseUrl).pathname.replace(/\/$/, '');
    let path = url.pathname;
    if (url.origin === new URL(this.baseUrl).origin && root && path.startsWith(root)) {
      path = path.slice(root.length);
    }
    return path.startsWith('/v1/') || /\/webhooks\/[^/]+\/?$/.test(path);
  }

  /**
   * Sends one logical request, retrying as the options allow, and returns the full answer.
   * Resource methods use it and return its `data`; call it directly for anything else.
   *
   * @param {string} method
   * @param {string} path `/v1/...` (relative to the base URL) or an absolute http(s) URL
   * @param {object} [options]
   * @param {Record<string, unknown>} [options.query]
   * @param {unknown} [options.body] sent as JSON
   * @param {string|Uint8Array|ArrayBuffer} [options.rawBody] sent exactly as given (JSON)
   * @param {Record<string,string>} [options.headers]
   * @param {string} [options.idempotencyKey] one per logical call; made up for `/v1` POSTs
   * @param {number} [options.timeout] ms per attempt
   * @param {number} [options.maxRetries]
   * @param {AbortSignal} [options.signal]
   * @param {boolean} [options.authenticate] false: no Authorization header (ingestion, probes)
   * @returns {Promise<import('./index.js').BotcadenceResponse>}
   */
  async request(method, path, options = {}) {
    method = method.toUpperCase();
    const timeout = positiveNumber(options.timeout ?? this.timeout, 'timeout');
    const maxRetries = nonNegativeInteger(options.maxRetries ?? this.maxRetries, 'maxRetries');
    const url = new URL(/^https?:\/\//i.test(path) ? path : this.baseUrl + path);
    if (options.query) url.search = queryString(options.query);

    let body;
    if (options.rawBody !== undefined) {
      if (typeof options.rawBody !== 'string' && !isBytes(options.rawBody)) {
        throw new TypeError('rawBody must be a string or bytes');
      }
      body = options.rawBody;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
    }

    // A Headers object, so that a caller's header replaces ours whatever its case.
    const headers = new Headers({ 'User-Agent': USER_AGENT, Accept: 'application/json' });
    for (const [name, value] of Object.entries(this.defaultHeaders)) headers.set(name, value);
    if (this.#apiKey && options.authenticate !== false) headers.set('Authorization', `Bearer ${this.#apiKey}`);
    if (body !== undefined) headers.set('Content-Type', 'application/json');
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (value !== undefined && value !== null) headers.set(name, String(value));
    }

    // A POST is retried only when the server can tell a retry from a new request: the same
    // Idempotency-Key on every attempt of this call. Other methods are idempotent already.
    const deduplicated = method === 'POST' && this.#serverDeduplicates(url);
    let idempotencyKey = options.idempotencyKey ?? headers.get('Idempotency-Key') ?? undefined;
    if (idempotencyKey === undefined && deduplicated) idempotencyKey = randomUUID();
    if (idempotencyKey !== undefined) headers.set('Idempotency-Key', String(idempotencyKey));
    const safeToRepeat = method !== 'POST' || (deduplicated && idempotencyKey !== undefined);

    // Once an attempt went unanswered, it may still be running on the server.
    let hadNoAnswer = false;
    for (let attempt = 0; ; attempt++) {
      const attempts = attempt + 1;
      let answer;
      try {
        answer = await this.#send(url, { method, headers, body }, timeout, options.signal, attempts);
      } catch (err) {
        const kind = noAnswer.get(err);
        if (!kind) throw err;
        const retry = attempt < maxRetries && kind.transient && (safeToRepeat || kind.neverSent);
        if (!retry) throw err;
        hadNoAnswer = true;
        await sleep(backoffDelay(attempt), options.signal);
        continue;
      }

      const { response, data } = answer;
      const requestId = response.headers.get('x-request-id');
      if (response.status < 400) {
        return {
          status: response.status,
          headers: response.headers,
          data,
          requestId,
          attempts,
          replayed: response.headers.get('idempotent-replayed') === 'true',
          rateLimit: rateLimitOf(response.headers),
        };
      }

      const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
      const error = errorFrom(response, data, requestId, retryAfter, attempts);
      // Same key, same body: a 409 can then only mean the attempt that got no answer is
      // still running on the server, so its answer is worth waiting for.
      const stillRunning = response.status === 409 && error.code === 'conflict'
        && hadNoAnswer && deduplicated && idempotencyKey !== undefined;
      const retryableStatus = RETRYABLE_STATUSES.includes(response.status)
        && (safeToRepeat || NOTHING_DONE_STATUSES.includes(response.status));
      if (attempt >= maxRetries || !(retryableStatus || stillRunning)) throw error;
      if (retryAfter !== null && retryAfter > MAX_RETRY_AFTER_SECONDS) throw error;
      await sleep(retryAfter !== null ? retryAfter * 1000 : backoffDelay(attempt), options.signal);
    }
  }

  /** One attempt: the answer read in full within the timeout, or a connection error. */
  async #send(url, init, timeout, signal, attempts) {
    if (signal?.aborted) throw signal.reason;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeout);
    const onAbort = () => controller.abort(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await this.#fetch(url, { ...init, signal: controller.signal });
      const bytes = Buffer.from(await response.arrayBuffer());
      return { response, data: parseBody(response, bytes) };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut) {
        const e = new BotcadenceTimeoutError({
          message: `No answer from ${init.method} ${url.origin}${url.pathname} within ${timeout} ms`,
          attempts,
          cause: err,
        });
        noAnswer.set(e, { transient: true, neverSent: false });
        throw e;
      }
      const kind = classifyNetworkError(err);
      const detail = kind.code ? ` (${kind.code})` : '';
      const e = new BotcadenceConnectionError({
        message: `${init.method} ${url.origin}${url.pathname} failed before an answer arrived${detail}: ${err?.cause?.message ?? err?.message ?? err}`,
        attempts,
        cause: err,
      });
      noAnswer.set(e, { transient: kind.transient, neverSent: kind.neverSent });
      throw e;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Used by the resources: the answer's data alone. */
  async _call(method, path, options) {
    return (await this.request(method, path, options)).data;
  }
}

function parseBody(response, bytes) {
  if (response.status === 204 || bytes.length === 0) return undefined;
  const text = bytes.toString('utf8');
  const type = response.headers.get('content-type') ?? '';
  if (/[/+]json\b/i.test(type)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function rateLimitOf(headers) {
  const limit = headers.get('x-ratelimit-limit');
  if (limit === null) return null;
  return {
    limit: Number(limit),
    remaining: Number(headers.get('x-ratelimit-remaining')),
    reset: Number(headers.get('x-ratelimit-reset')),
  };
}

function errorFrom(response, data, requestId, retryAfter, attempts) {
  const envelope = data !== null && typeof data === 'object' ? data.error : undefined;
  const code = typeof envelope?.code === 'string' ? envelope.code : `http_${response.status}`;
  let message = typeof envelope?.message === 'string' ? envelope.message : null;
  if (message === null) {
    message = typeof data === 'string' && data.trim() !== ''
      ? data.trim().slice(0, 500)
      : `HTTP ${response.status} ${response.statusText ?? ''}`.trim();
  }
  return new BotcadenceError({
    status: response.status,
    code,
    message,
    details: envelope?.details ?? null,
    requestId,
    retryAfter,
    attempts,
    headers: response.headers,
    body: data ?? null,
  });
}
