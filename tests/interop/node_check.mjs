// The Node side of the interop suite (run.py drives it): reads one JSON job from stdin and
// prints the results as JSON. The checks are the other side's own code: the reference's
// `verifySignature`, copied verbatim, and the official `standardwebhooks` package.
import { createRequire } from 'node:module';
import { Webhook } from 'standardwebhooks';

const require = createRequire(import.meta.url);

// ---- verbatim from the API reference, "Webhooks Security" ----
const crypto = require('crypto');

function verifySignature(payload, signature, secret) {
  const hmac = crypto.createHmac('sha256', secret);
  const digest = hmac.update(payload).digest('hex');
  return crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(digest)
  );
}
// ---- end of the reference's code ----

const job = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = {};
if (job.mode === 'verify') {
  // An outgoing http_request as the receiver got it.
  const body = Buffer.from(job.body_b64, 'base64');
  const sig = job.headers['x-botcadence-signature'] || '';
  out.reference = sig.length === 64 && verifySignature(body, sig, job.secret);
  try {
    new Webhook(job.secret).verify(body.toString('utf8'), job.headers);
    out.standard = true;
  } catch (e) {
    out.standard = false;
    out.error = String(e);
  }
} else if (job.mode === 'sign') {
  // Headers a Standard Webhooks sender using the official library would send.
  const wh = new Webhook(job.secret);
  const now = new Date();
  out.headers = {
    'webhook-id': job.id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': wh.sign(job.id, now, job.body),
  };
}
process.stdout.write(JSON.stringify(out));
