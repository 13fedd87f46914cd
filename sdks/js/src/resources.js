import { PageIterator } from './pagination.js';
import { signPayload } from './signatures.js';

const id = (value, name) => {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return encodeURIComponent(value);
};

/** The per-call options a resource passes on to `client.request`. */
const callOptions = (options = {}) => ({
  timeout: options.timeout,
  maxRetries: options.maxRetries,
  idempotencyKey: options.idempotencyKey,
  headers: options.headers,
  signal: options.signal,
});

class Resource {
  constructor(client) {
    // Not enumerable: a resource printed or serialised should not drag the client along.
    Object.defineProperty(this, '_client', { value: client });
  }
}

export class Workflows extends Resource {
  /** GET /v1/workflows — one page; filters `status`, `page`, `per_page`. */
  list(params = {}, options) {
    return this._client._call('GET', '/v1/workflows', { ...callOptions(options), query: params });
  }

  /** Every workflow, page after page (`per_page` sets the page size). */
  iterate(params = {}, options) {
    return new PageIterator((p) => this.list(p, options), params);
  }

  /** POST /v1/workflows */
  create(body, options) {
    return this._client._call('POST', '/v1/workflows', { ...callOptions(options), body });
  }

  /** GET /v1/workflows/{id} */
  get(workflowId, options) {
    return this._client._call('GET', `/v1/workflows/${id(workflowId, 'workflowId')}`, callOptions(options));
  }

  /** PATCH /v1/workflows/{id} */
  update(workflowId, body, options) {
    return this._client._call('PATCH', `/v1/workflows/${id(workflowId, 'workflowId')}`,
      { ...callOptions(options), body });
  }

  /** DELETE /v1/workflows/{id} */
  async delete(workflowId, options) {
    await this._client._call('DELETE', `/v1/workflows/${id(workflowId, 'workflowId')}`, callOptions(options));
  }
}

export class Executions extends Resource {
  /** GET /v1/workflows/{id}/executions — filters `status`, `from`, `to` (Date or RFC 3339), `page`, `per_page`. */
  list(workflowId, params = {}, options) {
    return this._client._call('GET', `/v1/workflows/${id(workflowId, 'workflowId')}/executions`,
      { ...callOptions(options), query: params });
  }

  /** Every execution of a workflow matching the filters, page after page. */
  iterate(workflowId, params = {}, options) {
    id(workflowId, 'workflowId');
    return new PageIterator((p) => this.list(workflowId, p, options), params);
  }

  /** GET /v1/executions/{id} */
  get(executionId, options) {
    return this._client._call('GET', `/v1/executions/${id(executionId, 'executionId')}`, callOptions(options));
  }

  /** POST /v1/executions/{id}/replay — a new execution with the same input. */
  replay(executionId, options) {
    return this._client._call('POST', `/v1/executions/${id(executionId, 'executionId')}/replay`,
      callOptions(options));
  }
}

const version = (value) => {
  if (!Number.isInteger(value) || value < 1) throw new TypeError('version must be an integer >= 1');
  return value;
};

export class WorkflowVersions extends Resource {
  /**
   * GET /v1/workflows/{id}/versions — one page, newest first; `page`, `per_page`. Every change
   * to a workflow's trigger or actions makes a new, immutable version.
   */
  list(workflowId, params = {}, options) {
    return this._client._call('GET', `/v1/workflows/${id(workflowId, 'workflowId')}/versions`,
      { ...callOptions(options), query: params });
  }

  /** Every version of a workflow, newest first, page after page. */
  iterate(workflowId, params = {}, options) {
    id(workflowId, 'workflowId');
    return new PageIterator((p) => this.list(workflowId, p, options), params);
  }

  /** GET /v1/workflows/{id}/versions/{version} */
  get(workflowId, versionNumber, options) {
    return this._client._call('GET',
      `/v1/workflows/${id(workflowId, 'workflowId')}/versions/${version(versionNumber)}`, callOptions(options));
  }
}

export class Replays extends Resource {
  /**
   * POST /v1/workflows/{id}/replays — runs the inputs of a workflow's past executions again,
   * in the background; filters `status` (`success`/`failed`), `from`, `to` (Date or RFC 3339),
   * `limit`. The workflow must be active.
   */
  create(workflowId, body = {}, options) {
    return this._client._call('POST', `/v1/workflows/${id(workflowId, 'workflowId')}/replays`,
      { ...callOptions(options), body });
  }

  /** The same call as a dry run: `{count}`, how many executions `create` would replay; starts nothing. */
  count(workflowId, filters = {}, options) {
    return this.create(workflowId, { ...filters, dry_run: true }, options);
  }

  /** GET /v1/replays/{id} — progress: `matched`, `replayed`, `skipped`, `status`. */
  get(replayId, options) {
    return this._client._call('GET', `/v1/replays/${id(replayId, 'replayId')}`, callOptions(options));
  }

  /** DELETE /v1/replays/{id} — stops a running replay; answers the replay (a finished one unchanged). */
  cancel(replayId, options) {
    return this._client._call('DELETE', `/v1/replays/${id(replayId, 'replayId')}`, callOptions(options));
  }
}

export class ShadowReplays extends Resource {
  /**
   * POST /v1/workflows/{id}/shadow-replays — runs past executions' inputs through another
   * definition and compares each with what the original did: exactly one of `definition`
   * (`{trigger?, actions?}`, what is absent taken from the workflow) and `version`, plus the
   * filters `status`, `from`, `to`, `limit`.
   */
  create(workflowId, body, options) {
    return this._client._call('POST', `/v1/workflows/${id(workflowId, 'workflowId')}/shadow-replays`,
      { ...callOptions(options), body: body ?? {} });
  }

  /** GET /v1/shadow-replays/{id} — `status` and `summary`. */
  get(shadowReplayId, options) {
    return this._client._call('GET', `/v1/shadow-replays/${id(shadowReplayId, 'shadowReplayId')}`,
      callOptions(options));
  }

  /** DELETE /v1/shadow-replays/{id} — stops a running shadow replay; answers it. */
  cancel(shadowReplayId, options) {
    return this._client._call('DELETE', `/v1/shadow-replays/${id(shadowReplayId, 'shadowReplayId')}`,
      callOptions(options));
  }

  /**
   * GET /v1/shadow-replays/{id}/results — one page, changed results first; `changed`
   * (true: only those that differ), `page`, `per_page`.
   */
  results(shadowReplayId, params = {}, options) {
    return this._client._call('GET', `/v1/shadow-replays/${id(shadowReplayId, 'shadowReplayId')}/results`,
      { ...callOptions(options), query: params });
  }

  /** Every result, page after page. */
  iterateResults(shadowReplayId, params = {}, options) {
    id(shadowReplayId, 'shadowReplayId');
    return new PageIterator((p) => this.results(shadowReplayId, p, options), params);
  }
}

export class Webhooks extends Resource {
  /** GET /v1/webhooks — one page. */
  list(params = {}, options) {
    return this._client._call('GET', '/v1/webhooks', { ...callOptions(options), query: params });
  }

  /** Every webhook, page after page. */
  iterate(params = {}, options) {
    return new PageIterator((p) => this.list(p, options), params);
  }

  /** POST /v1/webhooks — the answer holds the hook's `secret`, shown once. */
  create(body, options) {
    return this._client._call('POST', '/v1/webhooks', { ...callOptions(options), body });
  }

  /** GET /v1/webhooks/{id} */
  get(webhookId, options) {
    return this._client._call('GET', `/v1/webhooks/${id(webhookId, 'webhookId')}`, callOptions(options));
  }

  /** DELETE /v1/webhooks/{id} */
  async delete(webhookId, options) {
    await this._client._call('DELETE', `/v1/webhooks/${id(webhookId, 'webhookId')}`, callOptions(options));
  }
}

export class ApiKeys extends Resource {
  /** GET /v1/api-keys — every key of the account (no paging). */
  list(options) {
    return this._client._call('GET', '/v1/api-keys', callOptions(options));
  }

  /** POST /v1/api-keys — the answer holds the `key`, shown once. */
  create(body = {}, options) {
    return this._client._call('POST', '/v1/api-keys', { ...callOptions(options), body });
  }

  /** DELETE /v1/api-keys/{id} */
  async delete(apiKeyId, options) {
    await this._client._call('DELETE', `/v1/api-keys/${id(apiKeyId, 'apiKeyId')}`, callOptions(options));
  }
}

export class SigningSecret extends Resource {
  /** GET /v1/signing-secret — the `whsec_…` secret that signs outgoing `http_request` calls. */
  get(options) {
    return this._client._call('GET', '/v1/signing-secret', callOptions(options));
  }

  /** POST /v1/signing-secret/rotate — a new secret; the old one stops signing at once. */
  rotate(options) {
    return this._client._call('POST', '/v1/signing-secret/rotate', callOptions(options));
  }
}

export class Events extends Resource {
  /**
   * POST /webhooks/{hook_id} — sends an event to a hook.
   * @param {string} hookIdOrUrl a hook id (`hook_…`) or the hook's full `url`
   * @param {unknown} payload an object (sent as JSON), or a string / bytes sent exactly
   * @param {object} [options] `idempotencyKey`, `headers` (e.g. Standard Webhooks ones),
   *   `secret` (adds `X-Botcadence-Signature` for hooks with `verify: "hmac_sha256"`),
   *   `timeout`, `maxRetries`, `signal`
   */
  send(hookIdOrUrl, payload, options = {}) {
    if (payload === undefined) throw new TypeError('payload is required');
    const raw = typeof payload === 'string' || payload instanceof Uint8Array
      || payload instanceof ArrayBuffer || ArrayBuffer.isView(payload);
    const bytes = raw ? payload : JSON.stringify(payload);
    const target = typeof hookIdOrUrl === 'string' && /^https?:\/\//i.test(hookIdOrUrl)
      ? hookIdOrUrl
      : `/webhooks/${id(hookIdOrUrl, 'hookIdOrUrl')}`;
    const headers = { ...(options.headers ?? {}) };
    if (options.secret !== undefined) headers['X-Botcadence-Signature'] = signPayload(bytes, options.secret);
    // Ingestion needs no API key; a hook URL may point at another host, so none is sent.
    return this._client._call('POST', target,
      { ...callOptions(options), headers, rawBody: bytes, authenticate: false });
  }
}

export class System extends Resource {
  /** GET /healthz — the process answers. */
  health(options) {
    return this._client._call('GET', '/healthz', { ...callOptions(options), authenticate: false });
  }

  /**
   * GET /readyz — the store writes and the engine answers. Not ready is a BotcadenceError
   * (503) whose message says why; a probe wants the state now, so no retries by default.
   */
  readiness(options = {}) {
    return this._client._call('GET', '/readyz',
      { ...callOptions(options), maxRetries: options.maxRetries ?? 0, authenticate: false });
  }

  /** GET /metrics — Prometheus text. */
  metrics(options = {}) {
    return this._client._call('GET', '/metrics', {
      ...callOptions(options),
      headers: { Accept: 'text/plain', ...(options.headers ?? {}) },
      authenticate: false,
    });
  }

  /** GET /openapi.json — the API's description. */
  openapi(options) {
    return this._client._call('GET', '/openapi.json', { ...callOptions(options), authenticate: false });
  }
}

class AdminAccounts extends Resource {
  /** GET /admin/v1/accounts */
  list(options) {
    return this._client._call('GET', '/admin/v1/accounts', callOptions(options));
  }

  /** POST /admin/v1/accounts — `{name, plan?, limits?}` (limits: Enterprise only). */
  create(body, options) {
    return this._client._call('POST', '/admin/v1/accounts', { ...callOptions(options), body });
  }

  /** GET /admin/v1/accounts/{id} */
  get(accountId, options) {
    return this._client._call('GET', `/admin/v1/accounts/${id(accountId, 'accountId')}`, callOptions(options));
  }

  /** PATCH /admin/v1/accounts/{id} */
  update(accountId, body, options) {
    return this._client._call('PATCH', `/admin/v1/accounts/${id(accountId, 'accountId')}`,
      { ...callOptions(options), body });
  }

  /** POST /admin/v1/accounts/{id}/api-keys — the answer holds the `key`, shown once. */
  createApiKey(accountId, body = {}, options) {
    return this._client._call('POST', `/admin/v1/accounts/${id(accountId, 'accountId')}/api-keys`,
      { ...callOptions(options), body });
  }
}

class AdminApiKeys extends Resource {
  /** DELETE /admin/v1/api-keys/{id} */
  async revoke(apiKeyId, options) {
    await this._client._call('DELETE', `/admin/v1/api-keys/${id(apiKeyId, 'apiKeyId')}`, callOptions(options));
  }
}

/** The operator API: the client's key must be the daemon's admin token. */
export class Admin extends Resource {
  constructor(client) {
    super(client);
    this.accounts = new AdminAccounts(client);
    this.apiKeys = new AdminApiKeys(client);
  }
}
