// Against a real daemon (sdks/live.py): every resource through the SDK, errors, pagination.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Botcadence, BotcadenceError } from '../src/index.js';
import { closedPort } from '../test-support/servers.js';
import {
  BASE_URL, SKIP, activeWorkflowWithHook, admin, newAccount, unique, waitForExecution, waitForJob,
} from '../test-support/live.js';

const DELAY_ACTION = { type: 'delay', config: { seconds: 0 } };

describe('against the daemon: resources', { skip: SKIP }, () => {
  let client;
  let key;
  let account;
  before(async () => {
    ({ client, key, account } = await newAccount('sdk-js-api'));
  });

  test("the reference's snippet, unchanged, with BOTCADENCE_BASE_URL set", async () => {
    assert.equal(process.env.BOTCADENCE_BASE_URL, BASE_URL);
    const client = new Botcadence(key);
    const workflows = await client.workflows.list();
    assert.ok(Array.isArray(workflows.data));
    assert.equal(typeof workflows.total, 'number');
  });

  test('workflows: create, get, update, list, delete', async () => {
    const name = unique('crud');
    const created = await client.workflows.create({
      name,
      trigger: { type: 'webhook', event: 'user.created' },
      actions: [{ type: 'send_email', config: { to: '{{user.email}}', subject: 'Welcome!', body: 'Thanks for joining!' } }],
    });
    assert.match(created.id, /^wf_/);
    assert.equal(created.name, name);
    assert.equal(created.status, 'draft');

    const got = await client.workflows.get(created.id);
    assert.deepEqual(got, created);

    const updated = await client.workflows.update(created.id, { name: `${name}-2`, status: 'active' });
    assert.equal(updated.name, `${name}-2`);
    assert.equal(updated.status, 'active');

    const active = await client.workflows.list({ status: 'active', per_page: 100 });
    assert.ok(active.data.some((w) => w.id === created.id));
    const drafts = await client.workflows.list({ status: 'draft', per_page: 100 });
    assert.ok(!drafts.data.some((w) => w.id === created.id));

    assert.equal(await client.workflows.delete(created.id), undefined);
    const gone = await client.workflows.get(created.id).catch((e) => e);
    assert.ok(gone instanceof BotcadenceError);
    assert.equal(gone.status, 404);
  });

  test('webhooks: create, get, list, delete', async () => {
    const workflow = await client.workflows.create({ name: unique('hooked'), trigger: { type: 'webhook' }, actions: [DELAY_ACTION] });
    const hook = await client.webhooks.create({ workflow_id: workflow.id, event: 'order.created' });
    assert.match(hook.id, /^hook_/);
    assert.equal(hook.workflow_id, workflow.id);
    assert.equal(hook.verify, 'none');
    assert.equal(hook.url, `${BASE_URL}/webhooks/${hook.id}`);

    const got = await client.webhooks.get(hook.id);
    assert.equal(got.id, hook.id);
    assert.equal(got.event, 'order.created');
    const listed = await client.webhooks.list({ per_page: 100 });
    assert.ok(listed.data.some((h) => h.id === hook.id));

    await client.webhooks.delete(hook.id);
    const err = await client.webhooks.get(hook.id).catch((e) => e);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'not_found');
  });

  test('API keys: a new key works; deleted, it is refused with 401', async () => {
    const created = await client.apiKeys.create({ name: 'second' });
    assert.match(created.key, /^bc_live_/);
    const second = new Botcadence(created.key, { baseUrl: BASE_URL });
    assert.ok(Array.isArray((await second.workflows.list()).data));
    const keys = await client.apiKeys.list();
    assert.ok(keys.data.some((k) => k.id === created.id));
    assert.ok(keys.data.every((k) => k.key == null), 'a key is shown only once');

    await client.apiKeys.delete(created.id);
    const refused = await second.workflows.list().catch((e) => e);
    assert.ok(refused instanceof BotcadenceError);
    assert.equal(refused.status, 401);
    assert.equal(refused.code, 'unauthorized');
    assert.equal(refused.attempts, 1, 'a 401 is not retried');
  });

  test('signing secret: get, rotate gives another', async () => {
    const { secret } = await client.signingSecret.get();
    assert.match(secret, /^whsec_/);
    const rotated = await client.signingSecret.rotate();
    assert.match(rotated.secret, /^whsec_/);
    assert.notEqual(rotated.secret, secret);
    assert.equal((await client.signingSecret.get()).secret, rotated.secret);
  });

  test('executions: events in, wait, list with filters, replay', async () => {
    const refused = await closedPort();
    // n > 1 goes on to a request that cannot connect (one attempt): failed; n = 1 stops at
    // the filter: success.
    const { workflow, hook } = await activeWorkflowWithHook(client, [
      { type: 'filter', config: { condition: 'n > 1' } },
      { type: 'http_request', config: { url: `http://127.0.0.1:${refused}/nowhere`, timeout_ms: 2000 }, retry: { max_attempts: 1 } },
    ]);

    const first = await client.events.send(hook.id, { n: 1 });
    const second = await client.events.send(hook.url, JSON.stringify({ n: 2 }));
    assert.match(first.execution_id, /^exec_/);
    assert.notEqual(first.execution_id, second.execution_id);

    const ok = await waitForExecution(client, first.execution_id);
    const failed = await waitForExecution(client, second.execution_id);
    assert.equal(ok.status, 'success');
    assert.deepEqual(ok.input, { n: 1 });
    assert.equal(ok.trigger.hook_id, hook.id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.workflow_id, workflow.id);

    const all = await client.executions.list(workflow.id);
    assert.equal(all.total, 2);
    const onlyFailed = await client.executions.list(workflow.id, { status: 'failed' });
    assert.deepEqual(onlyFailed.data.map((e) => e.id), [second.execution_id]);
    const onlySuccess = await client.executions.list(workflow.id, { status: 'success' });
    assert.deepEqual(onlySuccess.data.map((e) => e.id), [first.execution_id]);
    const future = await client.executions.list(workflow.id, { from: new Date(Date.now() + 3_600_000) });
    assert.equal(future.total, 0);
    const past = await client.executions.list(workflow.id, { to: new Date(Date.now() + 60_000), from: new Date(Date.now() - 3_600_000) });
    assert.equal(past.total, 2);
    const iterated = await client.executions.iterate(workflow.id, { per_page: 1 }).toArray();
    assert.equal(iterated.length, 2);

    const replay = await client.executions.replay(second.execution_id);
    assert.match(replay.id, /^exec_/);
    assert.notEqual(replay.id, second.execution_id);
    assert.equal(replay.replay_of, second.execution_id);
    const replayed = await waitForExecution(client, replay.id);
    assert.equal(replayed.replay_of, second.execution_id);
    assert.deepEqual(replayed.input, { n: 2 });
    assert.equal((await client.executions.list(workflow.id)).total, 3);
  });

  test('versions, then a shadow replay of a changed definition, then a bulk replay', async () => {
    const double = { type: 'transform', config: { set: { doubled: '{{ n * 2 }}' } } };
    const { workflow, hook } = await activeWorkflowWithHook(client, [double]);
    assert.equal(workflow.version, 1);

    // Changing the actions makes version 2; version 1 stays as it was.
    const updated = await client.workflows.update(workflow.id, { actions: [{ type: 'filter', config: { condition: 'n > 1' } }, double] });
    assert.equal(updated.version, 2);
    const versions = await client.workflowVersions.list(workflow.id);
    assert.equal(versions.total, 2);
    assert.deepEqual(versions.data.map((v) => v.version), [2, 1]);
    assert.ok(versions.data.every((v) => v.workflow_id === workflow.id));
    assert.deepEqual(versions.data[0].actions, updated.actions);
    const first = await client.workflowVersions.get(workflow.id, 1);
    assert.equal(first.version, 1);
    assert.deepEqual(first.trigger, workflow.trigger);
    assert.deepEqual(first.actions, workflow.actions);
    assert.deepEqual((await client.workflowVersions.iterate(workflow.id, { per_page: 1 }).toArray()).map((v) => v.version), [2, 1]);
    const missing = await client.workflowVersions.get(workflow.id, 3).catch((e) => e);
    assert.ok(missing instanceof BotcadenceError);
    assert.equal(missing.status, 404);
    assert.equal(missing.code, 'not_found');

    // n = 1 stops at the filter; n = 2 and 3 reach the transform. All succeed, on version 2.
    const ids = [];
    for (const n of [1, 2, 3]) ids.push((await client.events.send(hook.id, { n })).execution_id);
    for (const id of ids) {
      const execution = await waitForExecution(client, id);
      assert.equal(execution.status, 'success');
      assert.equal(execution.workflow_version, 2);
    }

    // Shadow: with the filter at n > 2, only n = 2 ends differently (its transform skipped).
    const shadow = await client.shadowReplays.create(workflow.id, {
      definition: { actions: [{ type: 'filter', config: { condition: 'n > 2' } }, double] },
    });
    assert.match(shadow.id, /^shr_/);
    assert.equal(shadow.workflow_id, workflow.id);
    assert.equal(shadow.version, null);
    const shadowDone = await waitForJob((id) => client.shadowReplays.get(id), shadow.id);
    assert.equal(shadowDone.status, 'completed', shadowDone.error ?? '');
    assert.ok(shadowDone.finished_at);
    assert.deepEqual(shadowDone.summary, { matched: 3, compared: 3, changed: 1, unchanged: 2 });
    assert.equal(shadowDone.definition.actions[0].config.condition, 'n > 2');
    assert.deepEqual(shadowDone.definition.trigger, workflow.trigger);

    const results = await client.shadowReplays.results(shadow.id);
    assert.equal(results.total, 3);
    assert.deepEqual(results.data.map((r) => r.changed), [true, false, false], 'changed results first');
    const [changed] = results.data;
    assert.equal(changed.execution_id, ids[1]);
    assert.equal(changed.original.status, 'success');
    assert.equal(changed.shadow.status, 'success');
    assert.equal(changed.original.steps.length, 2);
    assert.ok(changed.differences.some((d) => d.path === 'steps[1].status' && d.original === 'success' && d.shadow === 'skipped'),
      JSON.stringify(changed.differences));
    assert.deepEqual(results.data.slice(1).map((r) => r.differences), [[], []]);
    const onlyChanged = await client.shadowReplays.results(shadow.id, { changed: true });
    assert.deepEqual(onlyChanged.data.map((r) => r.execution_id), [ids[1]]);
    assert.equal((await client.shadowReplays.iterateResults(shadow.id, { per_page: 1 }).toArray()).length, 3);
    // A finished shadow replay is answered unchanged.
    assert.equal((await client.shadowReplays.cancel(shadow.id)).status, 'completed');

    // Bulk replay: the dry run counts, the replay starts that many new executions.
    const { count } = await client.replays.count(workflow.id, { status: 'success' });
    assert.equal(count, 3);
    const replay = await client.replays.create(workflow.id, { status: 'success' });
    assert.match(replay.id, /^rpl_/);
    assert.equal(replay.workflow_id, workflow.id);
    assert.equal(replay.filter.status, 'success');
    const replayDone = await waitForJob((id) => client.replays.get(id), replay.id);
    assert.equal(replayDone.status, 'completed', replayDone.error ?? '');
    assert.equal(replayDone.matched, count);
    assert.equal(replayDone.replayed, count);
    assert.equal(replayDone.skipped, 0);
    assert.ok(replayDone.finished_at);
    assert.equal((await client.executions.list(workflow.id)).total, 3 + count);
    assert.equal((await client.replays.cancel(replay.id)).status, 'completed');

    // Only an active workflow is replayed.
    await client.workflows.update(workflow.id, { status: 'paused' });
    const inactive = await client.replays.create(workflow.id).catch((e) => e);
    assert.ok(inactive instanceof BotcadenceError);
    assert.equal(inactive.status, 409);
    assert.equal(inactive.code, 'workflow_inactive');
  });

  test('events with the same Idempotency-Key run once', async () => {
    const { hook } = await activeWorkflowWithHook(client, [DELAY_ACTION]);
    const first = await client.events.send(hook.id, { order: 1 }, { idempotencyKey: 'order-1' });
    const again = await client.events.send(hook.id, { order: 1 }, { idempotencyKey: 'order-1' });
    assert.equal(again.execution_id, first.execution_id);
    assert.equal(again.duplicate, true);
  });

  test('an Idempotency-Key on a /v1 POST: the first answer again, or a 409 for another body', async () => {
    const idempotencyKey = unique('idem');
    const body = { name: unique('idem-wf'), trigger: { type: 'webhook' }, actions: [DELAY_ACTION] };
    const first = await client.request('POST', '/v1/workflows', { body, idempotencyKey });
    const again = await client.request('POST', '/v1/workflows', { body, idempotencyKey });
    assert.equal(first.replayed, false);
    assert.equal(again.replayed, true);
    assert.equal(again.status, 201);
    assert.deepEqual(again.data, first.data);
    const conflict = await client.workflows.create({ ...body, name: 'other' }, { idempotencyKey }).catch((e) => e);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.code, 'conflict');
  });

  test('pagination: 7 workflows, per_page 3 → all 7 in 3 pages', async () => {
    const { client: fresh } = await newAccount('sdk-js-pages');
    const ids = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await fresh.workflows.create({ name: `page-${i}`, trigger: { type: 'webhook' }, actions: [DELAY_ACTION] })).id);
    }
    const seen = [];
    let pages = 0;
    for await (const page of fresh.workflows.iterate({ per_page: 3 }).byPage()) {
      pages += 1;
      assert.equal(page.total, 7);
      assert.ok(page.data.length <= 3);
      seen.push(...page.data.map((w) => w.id));
    }
    assert.equal(pages, 3);
    assert.deepEqual([...seen].sort(), [...ids].sort());
    const items = [];
    for await (const wf of fresh.workflows.iterate({ per_page: 3 })) items.push(wf.id);
    assert.deepEqual(items, seen);
  });

  test('a 404 is a BotcadenceError: not_found, with a request id', async () => {
    const err = await client.workflows.get('wf_000000000000000000000000').catch((e) => e);
    assert.ok(err instanceof BotcadenceError);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'not_found');
    assert.equal(typeof err.message, 'string');
    assert.ok(err.message.length > 0);
    assert.ok(err.requestId && err.requestId.length > 0);
    assert.equal(err.retryAfter, null);
  });

  test('a 400 is a BotcadenceError: invalid_request, details name the field', async () => {
    const err = await client.workflows.create({ trigger: { type: 'webhook' }, actions: [DELAY_ACTION] }).catch((e) => e);
    assert.ok(err instanceof BotcadenceError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_request');
    assert.deepEqual(err.details, { field: 'name', issue: 'required' });
    assert.ok(err.requestId && err.requestId.length > 0);
    assert.equal(err.attempts, 1);
  });

  test('system: health, readiness, metrics, openapi', async () => {
    const anonymous = new Botcadence(null, { baseUrl: `${BASE_URL}/v1/` });
    assert.deepEqual(await anonymous.system.health(), { status: 'ok' });
    assert.equal((await anonymous.system.readiness()).status, 'ready');
    const metrics = await anonymous.system.metrics();
    assert.equal(typeof metrics, 'string');
    assert.match(metrics, /^# (HELP|TYPE) botcadence_/m);
    const spec = await anonymous.system.openapi();
    assert.equal(spec.openapi.startsWith('3.'), true);
    assert.ok(spec.paths['/v1/workflows']);
  });

  test('operator API: accounts list, get, update, keys created and revoked', async () => {
    const operator = admin();
    const listed = await operator.admin.accounts.list();
    assert.ok(listed.data.some((a) => a.id === account.id));
    const got = await operator.admin.accounts.get(account.id);
    assert.equal(got.plan, 'enterprise');
    const renamed = await operator.admin.accounts.update(account.id, { name: `${account.name}-renamed` });
    assert.equal(renamed.name, `${account.name}-renamed`);

    const extra = await operator.admin.accounts.createApiKey(account.id, { name: 'revoked-soon' });
    const user = new Botcadence(extra.key, { baseUrl: BASE_URL });
    await user.workflows.list();
    await operator.admin.apiKeys.revoke(extra.id);
    const refused = await user.workflows.list().catch((e) => e);
    assert.equal(refused.status, 401);

    const notAdmin = await new Botcadence(key, { baseUrl: BASE_URL }).admin.accounts.list().catch((e) => e);
    assert.equal(notAdmin.status, 401);
  });
});
