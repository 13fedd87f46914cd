// Package botcadence is the Go client for the Botcadence API: workflows, their webhooks and
// executions, workflow versions, bulk and shadow replays, API keys, the signing secret,
// posting events, and the operator API.
//
//	client := botcadence.NewClient("YOUR_API_KEY")
//	workflows, err := client.Workflows.List()
//
// Every method has a variant taking a context.Context (ListContext, CreateContext, ...), and
// every method accepts per-call options (WithTimeout, WithMaxRetries, WithIdempotencyKey,
// WithHeader). Calls the API refused, or that got no answer, return a *Error (use
// errors.As); see its documentation for how an answer that said no differs from no answer
// at all.
//
// The base URL is, in order: WithBaseURL, the environment variable BOTCADENCE_BASE_URL, then
// https://api.botcadence.com. It may be given with or without a trailing "/" or "/v1".
//
// Webhook receivers verify deliveries with VerifySignature (X-Botcadence-Signature) or
// VerifyStandardWebhook (the Standard Webhooks headers).
package botcadence
