// Types of @botcadence/sdk. The API's own shapes come from schema.d.ts, which openapi-typescript
// generates from openapi.json (`npm run generate`); this file types the client around them.

import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };

type Schemas = components['schemas'];
type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;
type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** What an operation answers on success, as openapi.json says: methods follow the spec. */
type Success<Op extends keyof operations> =
  Json<operations[Op]['responses'][Extract<keyof operations[Op]['responses'], 200 | 201 | 202>]>;
/** What an operation takes as its JSON body. */
type Body<Op extends keyof operations> = Exclude<Json<NonNullable<operations[Op]['requestBody']>>, null>;

export type Account = Schemas['Account'];
export type AccountList = Schemas['AccountList'];
export type Accepted = Schemas['Accepted'];
export type Action = Schemas['Action'];
export type ApiKey = Schemas['ApiKey'];
export type ApiKeyList = Schemas['ApiKeyList'];
export type CreateAccount = Schemas['CreateAccount'];
export type CreateApiKey = Schemas['CreateApiKey'];
export type CreateWebhook = Schemas['CreateWebhook'];
export type CreateWorkflow = Schemas['CreateWorkflow'];
export type DelayAction = Schemas['DelayAction'];
export type ErrorBody = Schemas['ErrorBody'];
export type ErrorDetails = Schemas['ErrorDetails'];
export type ErrorEnvelope = Schemas['ErrorEnvelope'];
export type Execution = Schemas['Execution'];
export type ExecutionList = Schemas['ExecutionList'];
export type ExecutionStatus = Schemas['ExecutionStatus'];
export type ExecutionSummary = Schemas['ExecutionSummary'];
export type ExecutionTrigger = Schemas['ExecutionTrigger'];
export type FilterAction = Schemas['FilterAction'];
export type Health = Schemas['Health'];
export type HookVerify = Schemas['HookVerify'];
export type HttpRequestAction = Schemas['HttpRequestAction'];
export type Limits = Schemas['Limits'];
export type LimitsPatch = Schemas['LimitsPatch'];
export type Plan = Schemas['Plan'];
export type RetryPolicy = Schemas['RetryPolicy'];
export type SendEmailAction = Schemas['SendEmailAction'];
export type SigningSecretValue = Schemas['SigningSecret'];
export type StepRecord = Schemas['StepRecord'];
export type TemplateValue = Schemas['TemplateValue'];
export type TransformAction = Schemas['TransformAction'];
export type Trigger = Schemas['Trigger'];
export type TriggerType = Schemas['TriggerType'];
export type UpdateAccount = Schemas['UpdateAccount'];
export type UpdateWorkflow = Schemas['UpdateWorkflow'];
export type Webhook = Schemas['Webhook'];
export type WebhookList = Schemas['WebhookList'];
export type Workflow = Schemas['Workflow'];
export type WorkflowList = Schemas['WorkflowList'];
export type WorkflowStatus = Schemas['WorkflowStatus'];

export type ListWorkflowsParams = Query<'listWorkflows'>;
export type ListWebhooksParams = Query<'listWebhooks'>;
/** `from` and `to` may be Dates; they are sent as RFC 3339. */
export type ListExecutionsParams = Omit<Query<'listExecutions'>, 'from' | 'to'> & {
  from?: string | Date;
  to?: string | Date;
};

export type ListWorkflowVersionsParams = { page?: number; per_page?: number };

// Versions, replays and shadow replays, typed after the API reference.

/** One immutable version of a workflow's trigger and actions. */
export interface WorkflowVersion {
  workflow_id: string;
  /** 1 for the definition the workflow was created with, then one more per change. */
  version: number;
  trigger: Trigger;
  actions: Action[];
  created_at: string;
}

export interface WorkflowVersionList {
  /** Newest first. */
  data: WorkflowVersion[];
  total: number;
  page: number;
  per_page: number;
}

/** The state of a replay or a shadow replay; only `running` still changes. */
export type ReplayStatus = 'running' | 'completed' | 'cancelled' | 'failed';

/** Which past executions a replay or shadow replay went over. */
export interface ReplayFilter {
  status: 'success' | 'failed' | null;
  from: string | null;
  to: string | null;
  limit: number;
}

/** The filters of a replay or a shadow replay; `from` and `to` may be Dates. */
export interface ReplayFilterParams {
  /** Only executions that ended so. */
  status?: 'success' | 'failed';
  from?: string | Date;
  to?: string | Date;
  /** Replays: 1–100 000, 10 000 by default; shadow replays: 1–10 000, 1 000 by default. */
  limit?: number;
}

/** The answer of a dry run: how many executions a replay would run again. */
export interface ReplayCount {
  count: number;
}

/** A bulk replay: new executions of past executions' inputs, started in the background. */
export interface Replay {
  id: string;
  workflow_id: string;
  status: ReplayStatus;
  filter: ReplayFilter;
  /** How many executions the filter selected when the replay started. */
  matched: number;
  /** New executions started so far; each has `replay_of` set to its original. */
  replayed: number;
  /** Originals gone by the time they were reached. */
  skipped: number;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  error: string | null;
}

/** A definition to try: what is absent is taken from the current workflow. */
export interface ShadowDefinition {
  trigger?: Trigger;
  actions?: Action[];
}

/** The body of a shadow replay: exactly one of `definition` and `version`, and the filters. */
export type CreateShadowReplay = ReplayFilterParams & (
  | { definition: ShadowDefinition; version?: never }
  | { version: number; definition?: never }
);

export interface ShadowSummary {
  matched: number;
  compared: number;
  changed: number;
  unchanged: number;
}

/** A shadow replay: past executions' inputs run through another definition, and compared. */
export interface ShadowReplay {
  id: string;
  workflow_id: string;
  status: ReplayStatus;
  /** The version tried, or null when a definition was given. */
  version: number | null;
  /** The definition tried, in full. */
  definition: { trigger: Trigger; actions: Action[] };
  filter: ReplayFilter;
  summary: ShadowSummary;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  error: string | null;
}

/** One step of a run, as compared. */
export interface ShadowStep {
  index: number;
  type: string;
  status: string;
  output?: unknown;
  error?: string;
}

/** How a run ended and what its steps did. */
export interface ShadowRun {
  status: ExecutionStatus;
  steps: ShadowStep[];
  error?: string | null;
}

/** One way the shadow run differs from the original, e.g. `path: "steps[1].status"`. */
export interface ShadowDifference {
  path: string;
  /** Any JSON value, null included. */
  original: unknown;
  shadow: unknown;
}

/** A shadow replay's verdict on one past execution. */
export interface ShadowResult {
  execution_id: string;
  changed: boolean;
  original: ShadowRun;
  shadow: ShadowRun;
  differences: ShadowDifference[];
}

export interface ShadowResultList {
  /** Changed results first, then by execution id. */
  data: ShadowResult[];
  total: number;
  page: number;
  per_page: number;
}

export interface ListShadowResultsParams {
  /** true: only the results that differ; false: only those that do not. */
  changed?: boolean;
  page?: number;
  per_page?: number;
}

/** Raw bytes or text, sent exactly as given. */
export type RawBody = string | Uint8Array | ArrayBuffer;

export declare const VERSION: string;
export declare const USER_AGENT: string;
export declare const DEFAULT_BASE_URL: string;
export declare const DEFAULT_TIMEOUT_MS: number;
export declare const DEFAULT_MAX_RETRIES: number;

export interface ClientOptions {
  /** The API key (`bc_live_…`), or the admin token for `client.admin`. Else env BOTCADENCE_API_KEY. */
  apiKey?: string;
  /** Constructor option > env BOTCADENCE_BASE_URL > https://api.botcadence.com; `/v1` may end it. */
  baseUrl?: string;
  /** Milliseconds per attempt; 30 000 by default. */
  timeout?: number;
  /** Retries after the first attempt; 2 by default. */
  maxRetries?: number;
  /** Sent with every request. */
  headers?: Record<string, string>;
  /** A fetch to use instead of the global one. */
  fetch?: typeof globalThis.fetch;
}

/** Per-call options: every method takes them last. */
export interface RequestOptions {
  /** Milliseconds per attempt, instead of the client's. */
  timeout?: number;
  /** Retries for this call, instead of the client's. */
  maxRetries?: number;
  /** One per logical call, the same on every retry of it; a UUID is made up for `/v1` POSTs and events. */
  idempotencyKey?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface RawRequestOptions extends RequestOptions {
  query?: Record<string, string | number | boolean | Date | null | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent exactly as given, as application/json. */
  rawBody?: RawBody;
  /** false: no Authorization header. */
  authenticate?: boolean;
}

export interface RateLimit {
  limit: number;
  remaining: number;
  /** Unix seconds. */
  reset: number;
}

export interface BotcadenceResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON, text for other content types, undefined when empty. */
  data: T;
  /** `X-Request-Id`. */
  requestId: string | null;
  /** How many times the request was sent. */
  attempts: number;
  /** True when the answer is the stored one of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
  /** `X-RateLimit-*`, on `/v1` answers. */
  rateLimit: RateLimit | null;
}

export interface SendEventOptions extends RequestOptions {
  /** Adds `X-Botcadence-Signature` (hex HMAC-SHA256 of the exact body) for hooks with `verify: "hmac_sha256"`. */
  secret?: string | Uint8Array;
}

export declare class PageIterator<T, P = { data: T[]; total: number; page: number; per_page: number }>
  implements AsyncIterable<T> {
  constructor(fetchPage: (params: Record<string, unknown>) => Promise<P>, params?: Record<string, unknown>);
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /** Each page as the API answered it. */
  byPage(): AsyncIterable<P>;
  /** Every item, in order. */
  toArray(): Promise<T[]>;
}

export declare class Workflows {
  list(params?: ListWorkflowsParams, options?: RequestOptions): Promise<Success<'listWorkflows'>>;
  iterate(params?: ListWorkflowsParams, options?: RequestOptions): PageIterator<Workflow, WorkflowList>;
  create(body: Body<'createWorkflow'>, options?: RequestOptions): Promise<Success<'createWorkflow'>>;
  get(workflowId: string, options?: RequestOptions): Promise<Success<'getWorkflow'>>;
  update(workflowId: string, body: Body<'updateWorkflow'>, options?: RequestOptions): Promise<Success<'updateWorkflow'>>;
  delete(workflowId: string, options?: RequestOptions): Promise<void>;
}

export declare class Executions {
  list(workflowId: string, params?: ListExecutionsParams, options?: RequestOptions): Promise<Success<'listExecutions'>>;
  iterate(workflowId: string, params?: ListExecutionsParams, options?: RequestOptions):
    PageIterator<ExecutionSummary, ExecutionList>;
  get(executionId: string, options?: RequestOptions): Promise<Success<'getExecution'>>;
  /** A new execution of the same input. */
  replay(executionId: string, options?: RequestOptions): Promise<Success<'replayExecution'>>;
}

export declare class WorkflowVersions {
  /** Newest first. */
  list(workflowId: string, params?: ListWorkflowVersionsParams, options?: RequestOptions): Promise<WorkflowVersionList>;
  iterate(workflowId: string, params?: ListWorkflowVersionsParams, options?: RequestOptions):
    PageIterator<WorkflowVersion, WorkflowVersionList>;
  get(workflowId: string, version: number, options?: RequestOptions): Promise<WorkflowVersion>;
}

export declare class Replays {
  /** Starts replaying the executions the filters select; the workflow must be active. */
  create(workflowId: string, filters?: ReplayFilterParams, options?: RequestOptions): Promise<Replay>;
  /** A dry run: how many executions `create` would replay with these filters. */
  count(workflowId: string, filters?: ReplayFilterParams, options?: RequestOptions): Promise<ReplayCount>;
  get(replayId: string, options?: RequestOptions): Promise<Replay>;
  /** Stops a running replay; a finished one is answered unchanged. */
  cancel(replayId: string, options?: RequestOptions): Promise<Replay>;
}

export declare class ShadowReplays {
  create(workflowId: string, body: CreateShadowReplay, options?: RequestOptions): Promise<ShadowReplay>;
  get(shadowReplayId: string, options?: RequestOptions): Promise<ShadowReplay>;
  cancel(shadowReplayId: string, options?: RequestOptions): Promise<ShadowReplay>;
  /** Changed results first. */
  results(shadowReplayId: string, params?: ListShadowResultsParams, options?: RequestOptions): Promise<ShadowResultList>;
  iterateResults(shadowReplayId: string, params?: ListShadowResultsParams, options?: RequestOptions):
    PageIterator<ShadowResult, ShadowResultList>;
}

export declare class Webhooks {
  list(params?: ListWebhooksParams, options?: RequestOptions): Promise<Success<'listWebhooks'>>;
  iterate(params?: ListWebhooksParams, options?: RequestOptions): PageIterator<Webhook, WebhookList>;
  create(body: Body<'createWebhook'>, options?: RequestOptions): Promise<Success<'createWebhook'>>;
  get(webhookId: string, options?: RequestOptions): Promise<Success<'getWebhook'>>;
  delete(webhookId: string, options?: RequestOptions): Promise<void>;
}

export declare class ApiKeys {
  list(options?: RequestOptions): Promise<Success<'listApiKeys'>>;
  create(body?: Body<'createApiKey'>, options?: RequestOptions): Promise<Success<'createApiKey'>>;
  delete(apiKeyId: string, options?: RequestOptions): Promise<void>;
}

export declare class SigningSecret {
  get(options?: RequestOptions): Promise<Success<'getSigningSecret'>>;
  rotate(options?: RequestOptions): Promise<Success<'rotateSigningSecret'>>;
}

export declare class Events {
  /** `payload`: an object (sent as JSON) or a string / bytes sent exactly. */
  send(hookIdOrUrl: string, payload: unknown, options?: SendEventOptions): Promise<Success<'postEvent'>>;
}

export declare class System {
  health(options?: RequestOptions): Promise<Success<'getHealth'>>;
  /** A daemon that is not ready is a BotcadenceError (503); no retries unless asked. */
  readiness(options?: RequestOptions): Promise<Success<'getReadiness'>>;
  /** Prometheus text. */
  metrics(options?: RequestOptions): Promise<string>;
  openapi(options?: RequestOptions): Promise<Record<string, unknown>>;
}

export declare class AdminAccounts {
  list(options?: RequestOptions): Promise<Success<'listAccounts'>>;
  create(body: Body<'createAccount'>, options?: RequestOptions): Promise<Success<'createAccount'>>;
  get(accountId: string, options?: RequestOptions): Promise<Success<'getAccount'>>;
  update(accountId: string, body: Body<'updateAccount'>, options?: RequestOptions): Promise<Success<'updateAccount'>>;
  createApiKey(accountId: string, body?: Body<'createAccountApiKey'>, options?: RequestOptions): Promise<Success<'createAccountApiKey'>>;
}

export declare class AdminApiKeys {
  revoke(apiKeyId: string, options?: RequestOptions): Promise<void>;
}

export declare class Admin {
  readonly accounts: AdminAccounts;
  readonly apiKeys: AdminApiKeys;
}

export declare class Botcadence {
  constructor(apiKey?: string | null, options?: ClientOptions);
  constructor(options: ClientOptions);
  readonly baseUrl: string;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly defaultHeaders: Record<string, string>;
  readonly workflows: Workflows;
  readonly workflowVersions: WorkflowVersions;
  readonly executions: Executions;
  readonly replays: Replays;
  readonly shadowReplays: ShadowReplays;
  readonly webhooks: Webhooks;
  readonly apiKeys: ApiKeys;
  readonly signingSecret: SigningSecret;
  readonly events: Events;
  readonly system: System;
  /** The operator API: the client's key must be the admin token. */
  readonly admin: Admin;
  /** Any request, with the client's retries, timeouts and errors; the full answer. */
  request<T = unknown>(method: string, path: string, options?: RawRequestOptions): Promise<BotcadenceResponse<T>>;
}
export default Botcadence;

/** The API's root from a URL with or without a trailing `/` or `/v1`. */
export declare function normalizeBaseUrl(url: string | URL): string;

export declare class BotcadenceError extends Error {
  /** HTTP status; 0 when no answer arrived (BotcadenceConnectionError). */
  readonly status: number;
  /** `invalid_request`, `not_found`, `rate_limited`, …; `connection_error` or `timeout` with no answer. */
  readonly code: string;
  /** `error.details` of the answer, e.g. `{field: "name", issue: "required"}`, or null. */
  readonly details: ErrorDetails | Record<string, unknown> | null;
  /** `X-Request-Id`, or null with no answer. */
  readonly requestId: string | null;
  /** `Retry-After` in seconds, or null. */
  readonly retryAfter: number | null;
  /** How many times the request was sent. */
  readonly attempts: number;
  readonly headers: Headers | null;
  /** The answer's parsed body. */
  readonly body: unknown;
}
/** No answer: refused, reset or closed before a full answer. `status` is 0. */
export declare class BotcadenceConnectionError extends BotcadenceError {}
/** No answer within the timeout. `code` is `timeout`. */
export declare class BotcadenceTimeoutError extends BotcadenceConnectionError {}

export type WebhookVerificationReason =
  | 'missing_headers' | 'invalid_timestamp' | 'timestamp_too_old' | 'timestamp_too_new'
  | 'invalid_secret' | 'no_matching_signature';

export declare class WebhookVerificationError extends Error {
  readonly reason: WebhookVerificationReason;
}

/** Any of: Node's `req.headers`, a fetch `Headers`, a Map, or `[name, value]` pairs. */
export type HeadersLike =
  | Headers
  | Map<string, string | string[]>
  | Iterable<[string, string]>
  | Record<string, string | string[] | undefined>;

/** Hex HMAC-SHA256 of the payload keyed with the secret's text: `X-Botcadence-Signature`. */
export declare function signPayload(payload: RawBody, secret: string | Uint8Array): string;

/**
 * Checks `X-Botcadence-Signature` like the API reference's verifySignature, constant-time;
 * false (never a throw) when the signature is missing, of another length or not hex.
 */
export declare function verifySignature(
  payload: RawBody, signature: string | Uint8Array | null | undefined, secret: string | Uint8Array): boolean;

export interface VerifyStandardWebhookOptions {
  /** Seconds either side of now; 300 by default. */
  toleranceSeconds?: number;
  /** A Date or milliseconds since the epoch; the clock by default. */
  now?: Date | number;
}

/**
 * Verifies the Standard Webhooks headers of a request; throws WebhookVerificationError.
 * Returns the body parsed as JSON (its text when not JSON, undefined when empty).
 */
export declare function verifyStandardWebhook(
  payload: RawBody, headers: HeadersLike, secret: string | Uint8Array,
  options?: VerifyStandardWebhookOptions): unknown;

export interface StandardWebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** Standard Webhooks headers for a payload; `timestamp` is a Date or unix seconds. */
export declare function signStandardWebhook(
  payload: RawBody, secret: string | Uint8Array,
  options?: { id?: string; timestamp?: Date | number }): StandardWebhookHeaders;

/** operationId → the client method's path, e.g. `listWorkflows: "workflows.list"`. */
export declare const OPERATIONS: Readonly<Record<keyof operations, string>>;
/** The bound client method for an operationId. */
export declare function methodFor(
  client: Botcadence, operationId: string): ((...args: any[]) => Promise<unknown>) | undefined;
