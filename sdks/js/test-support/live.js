// What the tests against a real daemon share: the daemon's address from the environment
// (sdks/live.py sets it), accounts of their own, and waiting for an execution to finish.
import { randomUUID } from 'node:crypto';
import { Botcadence } from '../src/index.js';

export const BASE_URL = process.env.BOTCADENCE_BASE_URL;
export const ADMIN_TOKEN = process.env.BOTCADENCE_ADMIN_TOKEN;
export const FREE_RPM = Number(process.env.BOTCADENCE_FREE_RPM || 60);

/** The `skip` option of a suite: a reason when there is no daemon to test against. */
export const SKIP = BASE_URL && ADMIN_TOKEN
  ? false
  : 'no daemon: BOTCADENCE_BASE_URL and BOTCADENCE_ADMIN_TOKEN are not set (sdks/live.py sets them)';

export const admin = () => new Botcadence(ADMIN_TOKEN, { baseUrl: BASE_URL });

export const unique = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Large custom limits, so that only the rate-limit test ever meets a limit. */
export const BIG_LIMITS = { requests_per_minute: 1_000_000, requests_per_day: 100_000_000, webhooks_per_second: 100_000 };

/**
 * A new account with a key, and a client for it.
 * @returns {Promise<{account: object, apiKey: object, key: string, client: Botcadence}>}
 */
export async function newAccount(prefix, { plan = 'enterprise', limits = plan === 'enterprise' ? BIG_LIMITS : undefined, clientOptions = {} } = {}) {
  const operator = admin();
  const account = await operator.admin.accounts.create({ name: unique(prefix), plan, ...(limits ? { limits } : {}) });
  const apiKey = await operator.admin.accounts.createApiKey(account.id, { name: 'sdk-tests' });
  const client = new Botcadence(apiKey.key, { baseUrl: BASE_URL, ...clientOptions });
  return { account, apiKey, key: apiKey.key, client };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls an execution until it has finished (success or failed). */
export async function waitForExecution(client, executionId, { timeoutMs = 30_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const execution = await client.executions.get(executionId);
    if (execution.status === 'success' || execution.status === 'failed') return execution;
    if (Date.now() > deadline) throw new Error(`execution ${executionId} still ${execution.status} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Polls a replay or shadow replay (`get(id)`) until it is no longer running. */
export async function waitForJob(get, id, { timeoutMs = 20_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await get(id);
    if (job.status !== 'running') return job;
    if (Date.now() > deadline) throw new Error(`${id} still running after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** A workflow that is active at once, with a hook. */
export async function activeWorkflowWithHook(client, actions, { name = unique('wf'), event = 'test.event' } = {}) {
  const workflow = await client.workflows.create({ name, trigger: { type: 'webhook' }, actions, status: 'active' });
  const hook = await client.webhooks.create({ workflow_id: workflow.id, event });
  return { workflow, hook };
}
