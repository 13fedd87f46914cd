// Compiled with `tsc --noEmit` by test/types.test.js: the client's types hold for ordinary use.
// Never run, so it may call a daemon that is not there.
import {
  Botcadence, BotcadenceError, BotcadenceTimeoutError, verifySignature, verifyStandardWebhook,
  WebhookVerificationError, type Workflow, type ExecutionSummary, type CreateWorkflow,
  type Execution, type Accepted, type ApiKey, type Account, type Webhook, type WorkflowVersion,
  type Replay, type ReplayStatus, type ShadowReplay, type ShadowResult,
} from '@botcadence/sdk';

export async function example(): Promise<void> {
  // The reference's snippet, unchanged.
  const client = new Botcadence('YOUR_API_KEY');
  const workflows = await client.workflows.list();
  const first: Workflow | undefined = workflows.data[0];
  const total: number = workflows.total;

  const body: CreateWorkflow = {
    name: 'New Workflow',
    trigger: { type: 'webhook', event: 'user.created' },
    actions: [{
      type: 'send_email',
      config: { to: '{{user.email}}', subject: 'Welcome!', body: 'Thanks for joining!' },
    }],
  };
  const created = await client.workflows.create(body, { idempotencyKey: 'create-once', timeout: 5_000 });
  const updated = await client.workflows.update(created.id, { status: 'active' });
  const status: 'draft' | 'active' | 'paused' = updated.status;

  const hook = await client.webhooks.create({ workflow_id: created.id, event: 'user.created' });
  const accepted = await client.events.send(hook.url, { user: { email: 'a@example.com' } });
  const execution = await client.executions.get(accepted.execution_id);
  const steps: number = execution.steps.length;

  for await (const wf of client.workflows.iterate({ per_page: 50, status: 'active' })) {
    const name: string = wf.name;
    void name;
  }
  for await (const page of client.executions.iterate(created.id, { status: 'failed', from: new Date(0) }).byPage()) {
    const items: ExecutionSummary[] = page.data;
    void items;
  }

  const other = new Botcadence({ apiKey: 'k', baseUrl: 'http://127.0.0.1:8080/v1', maxRetries: 0 });
  try {
    await other.workflows.get('wf_missing', { maxRetries: 5, timeout: 200 });
  } catch (err) {
    if (err instanceof BotcadenceTimeoutError) {
      const zero: number = err.status;
      void zero;
    } else if (err instanceof BotcadenceError) {
      const info: [number, string, string | null, number | null] = [err.status, err.code, err.requestId, err.retryAfter];
      void info;
    }
  }

  const admin = new Botcadence(process.env.BOTCADENCE_ADMIN_TOKEN ?? '');
  const account = await admin.admin.accounts.create({ name: 'acme', plan: 'enterprise', limits: { requests_per_minute: 1000 } });
  const key = await admin.admin.accounts.createApiKey(account.id, { name: 'ci' });
  const secretKey: string | null | undefined = key.key;
  await admin.admin.apiKeys.revoke(key.id);

  const metrics: string = await client.system.metrics();
  const raw = await client.request<{ status: string }>('GET', '/healthz');
  const replayed: boolean = raw.replayed;

  const payload = Buffer.from('{"n":1}');
  const ok: boolean = verifySignature(payload, 'abc', 'whsec_x');
  try {
    verifyStandardWebhook(payload, { 'webhook-id': 'm', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' }, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  } catch (err) {
    if (err instanceof WebhookVerificationError) void err.reason;
  }
  void [first, total, status, steps, metrics, replayed, ok, secretKey];
}

export async function misuse(client: Botcadence): Promise<void> {
  // @ts-expect-error a workflow needs a name
  await client.workflows.create({ trigger: { type: 'webhook' }, actions: [] });
  // @ts-expect-error no such status
  await client.workflows.list({ status: 'running' });
  // @ts-expect-error executions are listed per workflow
  await client.executions.list();
  // @ts-expect-error an unknown action type
  await client.workflows.update('wf', { actions: [{ type: 'sms', config: {} }] });
}

export async function answers(client: Botcadence): Promise<void> {
  // Each method answers what openapi.json says the operation answers.
  const replayed: Execution = await client.executions.replay('exec_1');
  const accepted: Accepted = await client.events.send('hook_1', { n: 1 });
  const keys: ApiKey[] = (await client.apiKeys.list()).data;
  const account: Account = await client.admin.accounts.get('acct_1');
  const secret: string = (await client.signingSecret.rotate()).secret;
  const hooks: Webhook[] = (await client.webhooks.list({ page: 2 })).data;
  void [replayed.replay_of, accepted.execution_id, keys, account.limits, secret, hooks];
}

export async function replays(client: Botcadence): Promise<void> {
  const versions: WorkflowVersion[] = (await client.workflowVersions.list('wf_1', { per_page: 5 })).data;
  const first: WorkflowVersion = await client.workflowVersions.get('wf_1', 1);
  await client.workflows.update('wf_1', { trigger: first.trigger, actions: first.actions });
  const { count } = await client.replays.count('wf_1', { status: 'failed', from: new Date(0) });
  const replay: Replay = await client.replays.create('wf_1', { limit: count });
  const status: ReplayStatus = (await client.replays.cancel(replay.id)).status;
  const shadow: ShadowReplay = await client.shadowReplays.create('wf_1', { version: 1, limit: 10 });
  await client.shadowReplays.create('wf_1', { definition: { actions: [{ type: 'delay', config: { seconds: 0 } }] } });
  const changed: ShadowResult[] = (await client.shadowReplays.results(shadow.id, { changed: true })).data;
  for await (const result of client.shadowReplays.iterateResults(shadow.id, { per_page: 100 })) {
    const paths: string[] = result.differences.map((d) => d.path);
    void paths;
  }
  // @ts-expect-error a shadow replay tries a definition or a version, not both
  await client.shadowReplays.create('wf_1', { version: 1, definition: {} });
  // @ts-expect-error a dry run is replays.count
  await client.replays.create('wf_1', { dry_run: true });
  // @ts-expect-error versions are numbers
  await client.workflowVersions.get('wf_1', '1');
  void [versions, status, changed, shadow.summary.changed];
}

// A wrong path into the schema would make an answer `never`, which anything accepts: every
// method's answer and body must be a real type.
type Real<T> = [T] extends [never] ? 'never' : unknown extends T ? 'unknown' : 'ok';
type Answer<F> = F extends (...args: any[]) => Promise<infer R> ? Real<R> : 'not a method';
type Arg<F, N extends number> = F extends (...args: infer A) => unknown ? Real<NonNullable<A[N]>> : 'not a method';
type C = Botcadence;
export const checked: Record<string, 'ok'> = {
  wfList: null! as Answer<C['workflows']['list']>,
  wfCreate: null! as Answer<C['workflows']['create']>,
  wfCreateBody: null! as Arg<C['workflows']['create'], 0>,
  wfGet: null! as Answer<C['workflows']['get']>,
  wfUpdate: null! as Answer<C['workflows']['update']>,
  wfUpdateBody: null! as Arg<C['workflows']['update'], 1>,
  exList: null! as Answer<C['executions']['list']>,
  exGet: null! as Answer<C['executions']['get']>,
  exReplay: null! as Answer<C['executions']['replay']>,
  hkList: null! as Answer<C['webhooks']['list']>,
  hkCreate: null! as Answer<C['webhooks']['create']>,
  hkCreateBody: null! as Arg<C['webhooks']['create'], 0>,
  hkGet: null! as Answer<C['webhooks']['get']>,
  akList: null! as Answer<C['apiKeys']['list']>,
  akCreate: null! as Answer<C['apiKeys']['create']>,
  akCreateBody: null! as Arg<C['apiKeys']['create'], 0>,
  ssGet: null! as Answer<C['signingSecret']['get']>,
  ssRotate: null! as Answer<C['signingSecret']['rotate']>,
  evSend: null! as Answer<C['events']['send']>,
  health: null! as Answer<C['system']['health']>,
  ready: null! as Answer<C['system']['readiness']>,
  metrics: null! as Answer<C['system']['metrics']>,
  acList: null! as Answer<C['admin']['accounts']['list']>,
  acCreate: null! as Answer<C['admin']['accounts']['create']>,
  acCreateBody: null! as Arg<C['admin']['accounts']['create'], 0>,
  acGet: null! as Answer<C['admin']['accounts']['get']>,
  acUpdate: null! as Answer<C['admin']['accounts']['update']>,
  acUpdateBody: null! as Arg<C['admin']['accounts']['update'], 1>,
  acKey: null! as Answer<C['admin']['accounts']['createApiKey']>,
  acKeyBody: null! as Arg<C['admin']['accounts']['createApiKey'], 1>,
  wvList: null! as Answer<C['workflowVersions']['list']>,
  wvGet: null! as Answer<C['workflowVersions']['get']>,
  rpCreate: null! as Answer<C['replays']['create']>,
  rpCount: null! as Answer<C['replays']['count']>,
  rpGet: null! as Answer<C['replays']['get']>,
  rpCancel: null! as Answer<C['replays']['cancel']>,
  srCreate: null! as Answer<C['shadowReplays']['create']>,
  srCreateBody: null! as Arg<C['shadowReplays']['create'], 1>,
  srGet: null! as Answer<C['shadowReplays']['get']>,
  srCancel: null! as Answer<C['shadowReplays']['cancel']>,
  srResults: null! as Answer<C['shadowReplays']['results']>,
};
