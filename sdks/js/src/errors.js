/**
 * An answer that said no (status >= 400), or — through the subclasses below — no answer at
 * all. One class so that a single `instanceof BotcadenceError` catches everything the client
 * raises; `status === 0` tells "no answer" apart.
 */
export class BotcadenceError extends Error {
  /**
   * @param {object} init
   * @param {number} init.status HTTP status, or 0 when no answer arrived.
   * @param {string} init.code The API's machine-readable code (`not_found`, …).
   * @param {string} init.message
   * @param {unknown} [init.details] The API's `error.details`, or null.
   * @param {string|null} [init.requestId] From `X-Request-Id`.
   * @param {number|null} [init.retryAfter] Seconds, from `Retry-After`.
   * @param {number} [init.attempts] How many times the request was sent.
   * @param {Headers|null} [init.headers] The answer's headers.
   * @param {unknown} [init.body] The answer's parsed body.
   * @param {unknown} [init.cause]
   */
  constructor({ status, code, message, details = null, requestId = null, retryAfter = null,
    attempts = 1, headers = null, body = null, cause }) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'BotcadenceError';
    this.status = status;
    this.code = code;
    this.details = details ?? null;
    this.requestId = requestId ?? null;
    this.retryAfter = retryAfter ?? null;
    this.attempts = attempts;
    this.headers = headers;
    this.body = body;
  }
}

/** No answer: the connection was refused, reset or closed before a full answer arrived. */
export class BotcadenceConnectionError extends BotcadenceError {
  constructor({ message, code = 'connection_error', attempts = 1, cause }) {
    super({ status: 0, code, message, attempts, cause });
    this.name = 'BotcadenceConnectionError';
  }
}

/** No answer within the request's timeout. A kind of connection error: nothing was heard. */
export class BotcadenceTimeoutError extends BotcadenceConnectionError {
  constructor({ message, attempts = 1, cause }) {
    super({ message, code: 'timeout', attempts, cause });
    this.name = 'BotcadenceTimeoutError';
  }
}

/** A webhook whose signature, headers or timestamp do not check out. */
export class WebhookVerificationError extends Error {
  /**
   * @param {string} message
   * @param {'missing_headers'|'invalid_timestamp'|'timestamp_too_old'|'timestamp_too_new'|'invalid_secret'|'no_matching_signature'} reason
   */
  constructor(message, reason) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
  }
}
