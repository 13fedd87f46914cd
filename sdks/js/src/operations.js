/**
 * Every operation of the API (its operationId in openapi.json) and the client method that
 * calls it, as a path from the client. The tests check that this covers the whole document
 * and that every entry is a real method.
 */
export const OPERATIONS = Object.freeze({
  listWorkflows: 'workflows.list',
  createWorkflow: 'workflows.create',
  getWorkflow: 'workflows.get',
  updateWorkflow: 'workflows.update',
  deleteWorkflow: 'workflows.delete',
  listExecutions: 'executions.list',
  getExecution: 'executions.get',
  replayExecution: 'executions.replay',
  listWorkflowVersions: 'workflowVersions.list',
  getWorkflowVersion: 'workflowVersions.get',
  createReplay: 'replays.create',
  getReplay: 'replays.get',
  cancelReplay: 'replays.cancel',
  createShadowReplay: 'shadowReplays.create',
  getShadowReplay: 'shadowReplays.get',
  cancelShadowReplay: 'shadowReplays.cancel',
  listShadowReplayResults: 'shadowReplays.results',
  listWebhooks: 'webhooks.list',
  createWebhook: 'webhooks.create',
  getWebhook: 'webhooks.get',
  deleteWebhook: 'webhooks.delete',
  listApiKeys: 'apiKeys.list',
  createApiKey: 'apiKeys.create',
  deleteApiKey: 'apiKeys.delete',
  getSigningSecret: 'signingSecret.get',
  rotateSigningSecret: 'signingSecret.rotate',
  postEvent: 'events.send',
  getHealth: 'system.health',
  getReadiness: 'system.readiness',
  getMetrics: 'system.metrics',
  getOpenApi: 'system.openapi',
  listAccounts: 'admin.accounts.list',
  createAccount: 'admin.accounts.create',
  getAccount: 'admin.accounts.get',
  updateAccount: 'admin.accounts.update',
  createAccountApiKey: 'admin.accounts.createApiKey',
  revokeApiKey: 'admin.apiKeys.revoke',
});

/**
 * The bound client method for an operationId, or undefined.
 * @param {import('./client.js').Botcadence} client
 * @param {string} operationId
 */
export function methodFor(client, operationId) {
  const route = OPERATIONS[operationId];
  if (!route) return undefined;
  const parts = route.split('.');
  const name = parts.pop();
  let owner = client;
  for (const part of parts) owner = owner?.[part];
  const method = owner?.[name];
  return typeof method === 'function' ? method.bind(owner) : undefined;
}
