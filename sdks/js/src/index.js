export { Botcadence, normalizeBaseUrl, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS } from './client.js';
export {
  BotcadenceError, BotcadenceConnectionError, BotcadenceTimeoutError, WebhookVerificationError,
} from './errors.js';
export { PageIterator } from './pagination.js';
export { OPERATIONS, methodFor } from './operations.js';
export { signPayload, signStandardWebhook, verifySignature, verifyStandardWebhook } from './signatures.js';
export { VERSION, USER_AGENT } from './version.js';
export { Botcadence as default } from './client.js';
