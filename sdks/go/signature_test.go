package botcadence_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/botcadence/go-sdk"
)

// Vectors computed with the API reference's verifySignature (Node's crypto) and the official
// Standard Webhooks library (PyPI standardwebhooks 1.1.0).
const (
	vecSecret  = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	vecPayload = `{"n":"1"}`
	vecHex     = "8aeb97ac61119daffd1cb295296eff0d66a617e65b335d919cbc391bb17afd01"
	vecUnicode = "héllo wörld ✓"
	vecUniHex  = "04d1dce93fcba1ebc4ec9e3e47552149ecde317e43a17a246a4f6d0b00d1a8ef"
	vecMsgID   = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
	vecTS      = 1700000000
	vecStd     = "v1,zcB+qPgILMBVj8SiwztEu/pCsqPDg+lMpzt+VbwZyMY="
	vecUniStd  = "v1,kPvnXGI7Qlw1WFxI8evtsXdqbsI+O+itaITZTSz6o8g="
)

func TestVerifySignatureVectors(t *testing.T) {
	if got := botcadence.ComputeSignature(vecPayload, vecSecret); got != vecHex {
		t.Errorf("ComputeSignature = %s", got)
	}
	if !botcadence.VerifySignature(vecPayload, vecHex, vecSecret) ||
		!botcadence.VerifySignature([]byte(vecPayload), vecHex, vecSecret) ||
		!botcadence.VerifySignature(vecUnicode, vecUniHex, vecSecret) {
		t.Error("a valid signature is refused")
	}
	for name, sig := range map[string]string{
		"uppercase":    "8AEB97AC61119DAFFD1CB295296EFF0D66A617E65B335D919CBC391BB17AFD01",
		"short":        vecHex[:63],
		"long":         vecHex + "0",
		"empty":        "",
		"not hex":      "zzeb97ac61119daffd1cb295296eff0d66a617e65b335d919cbc391bb17afd01",
		"other digest": vecUniHex,
	} {
		if botcadence.VerifySignature(vecPayload, sig, vecSecret) {
			t.Errorf("%s: accepted", name)
		}
	}
	if botcadence.VerifySignature(`{"n":"2"}`, vecHex, vecSecret) {
		t.Error("a changed body is accepted")
	}
	if botcadence.VerifySignature(vecPayload, vecHex, vecSecret+"x") {
		t.Error("another secret is accepted")
	}
}

func stdHeaders(id, ts, sig string) http.Header {
	// Keys as a receiver might hold them, not canonicalised by net/http.
	return http.Header{"webhook-id": {id}, "webhook-timestamp": {ts}, "webhook-signature": {sig}}
}

func TestVerifyStandardWebhookVectors(t *testing.T) {
	now := botcadence.WithNow(time.Unix(vecTS, 0))
	for _, tc := range []struct{ payload, sig string }{{vecPayload, vecStd}, {vecUnicode, vecUniStd}} {
		if err := botcadence.VerifyStandardWebhook(tc.payload, stdHeaders(vecMsgID, "1700000000", tc.sig), vecSecret, now); err != nil {
			t.Errorf("%q: %v", tc.payload, err)
		}
	}
	// The Standard Webhooks project's own example.
	h := http.Header{}
	h.Set("Webhook-Id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("Webhook-Timestamp", "1614265330")
	h.Set("Webhook-Signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	if err := botcadence.VerifyStandardWebhook([]byte(`{"test": 2432232314}`), h,
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", botcadence.WithNow(time.Unix(1614265330, 0))); err != nil {
		t.Error(err)
	}
	// Several signatures (a sender rotating keys): any one matching passes.
	multi := "v1,AAAAqPgILMBVj8SiwztEu/pCsqPDg+lMpzt+VbwZyMY= v2,whatever " + vecStd
	if err := botcadence.VerifyStandardWebhook(vecPayload, stdHeaders(vecMsgID, "1700000000", multi), vecSecret, now); err != nil {
		t.Error(err)
	}
}

func TestVerifyStandardWebhookFailures(t *testing.T) {
	now := time.Unix(vecTS, 0)
	at := botcadence.WithNow(now)
	check := func(name string, want error, err error) {
		t.Helper()
		var ve *botcadence.WebhookVerificationError
		if !errors.Is(err, want) || !errors.As(err, &ve) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	ok := stdHeaders(vecMsgID, "1700000000", vecStd)
	check("changed body", botcadence.ErrWebhookNoMatchingSignature,
		botcadence.VerifyStandardWebhook(`{"n":"2"}`, ok, vecSecret, at))
	check("other id", botcadence.ErrWebhookNoMatchingSignature,
		botcadence.VerifyStandardWebhook(vecPayload, stdHeaders("msg_other", "1700000000", vecStd), vecSecret, at))
	check("v2 only", botcadence.ErrWebhookNoMatchingSignature,
		botcadence.VerifyStandardWebhook(vecPayload, stdHeaders(vecMsgID, "1700000000", "v2,"+vecStd[3:]), vecSecret, at))
	check("missing", botcadence.ErrWebhookMissingHeaders,
		botcadence.VerifyStandardWebhook(vecPayload, http.Header{"webhook-id": {vecMsgID}}, vecSecret, at))
	check("bad secret", botcadence.ErrWebhookInvalidSecret,
		botcadence.VerifyStandardWebhook(vecPayload, ok, "whsec_not base64!", at))
	check("bad timestamp", botcadence.ErrWebhookInvalidTimestamp,
		botcadence.VerifyStandardWebhook(vecPayload, stdHeaders(vecMsgID, "soon", vecStd), vecSecret, at))
	check("too old", botcadence.ErrWebhookTimestampTooOld,
		botcadence.VerifyStandardWebhook(vecPayload, ok, vecSecret, botcadence.WithNow(now.Add(301*time.Second))))
	check("too new", botcadence.ErrWebhookTimestampTooNew,
		botcadence.VerifyStandardWebhook(vecPayload, ok, vecSecret, botcadence.WithNow(now.Add(-301*time.Second))))
	// Inside the tolerance both ways, and a custom tolerance.
	for _, d := range []time.Duration{299 * time.Second, -299 * time.Second} {
		if err := botcadence.VerifyStandardWebhook(vecPayload, ok, vecSecret, botcadence.WithNow(now.Add(d))); err != nil {
			t.Errorf("%v off: %v", d, err)
		}
	}
	check("tolerance", botcadence.ErrWebhookTimestampTooOld, botcadence.VerifyStandardWebhook(vecPayload, ok, vecSecret,
		botcadence.WithNow(now.Add(11*time.Second)), botcadence.WithTolerance(10*time.Second)))
	// Without WithNow the clock is used: a 2023 timestamp is too old.
	check("clock", botcadence.ErrWebhookTimestampTooOld, botcadence.VerifyStandardWebhook(vecPayload, ok, vecSecret))
}

func TestSignStandardWebhook(t *testing.T) {
	h, err := botcadence.SignStandardWebhook(vecPayload, vecSecret, vecMsgID, time.Unix(vecTS, 0))
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("webhook-signature") != vecStd || h.Get("webhook-timestamp") != "1700000000" || h.Get("webhook-id") != vecMsgID {
		t.Errorf("%v", h)
	}
	if err := botcadence.VerifyStandardWebhook([]byte(vecPayload), h, vecSecret, botcadence.WithNow(time.Unix(vecTS+5, 0))); err != nil {
		t.Error(err)
	}
	if _, err := botcadence.SignStandardWebhook(vecPayload, "whsec_%%%", "m", time.Now()); !errors.Is(err, botcadence.ErrWebhookInvalidSecret) {
		t.Errorf("%v", err)
	}
}
