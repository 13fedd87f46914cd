package botcadence

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// jsonKeys is every key a value of v's type can write: its fields' tags, and what its own
// MarshalJSON adds (the actions' "type").
func jsonKeys(v interface{}) map[string]bool {
	keys := map[string]bool{}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		for i := 0; i < t.NumField(); i++ {
			name := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
			if name != "" && name != "-" {
				keys[name] = true
			}
		}
	}
	if data, err := json.Marshal(v); err == nil {
		var m map[string]interface{}
		if json.Unmarshal(data, &m) == nil {
			for k := range m {
				keys[k] = true
			}
		}
	}
	return keys
}

func TestSchemasHaveTypes(t *testing.T) {
	schemas := readSpec(t).Components.Schemas
	epoch := time.Unix(0, 0)
	// Each schema's Go type, given as a value whose encoding shows every property (the
	// update of an account writes only what is set).
	objects := map[string]interface{}{
		"Accepted":          Accepted{},
		"Account":           Account{},
		"AccountList":       AccountList{},
		"ApiKey":            APIKey{},
		"ApiKeyList":        APIKeyList{},
		"CreateAccount":     CreateAccountParams{},
		"CreateApiKey":      CreateAPIKeyParams{},
		"CreateWebhook":     CreateWebhookParams{},
		"CreateWorkflow":    CreateWorkflowParams{},
		"ErrorBody":         ErrorBody{},
		"ErrorDetails":      ErrorDetails{},
		"ErrorEnvelope":     ErrorEnvelope{},
		"Execution":         Execution{},
		"ExecutionList":     ExecutionList{},
		"ExecutionSummary":  ExecutionSummary{},
		"ExecutionTrigger":  ExecutionTrigger{},
		"Health":            Health{},
		"Limits":            Limits{},
		"LimitsPatch":       LimitsPatch{},
		"SigningSecret":     SigningSecret{},
		"StepRecord":        StepRecord{},
		"Trigger":           Trigger{},
		"UpdateAccount":     UpdateAccountParams{Name: "n", Plan: PlanPro, Limits: &LimitsPatch{}},
		"UpdateWorkflow":    UpdateWorkflowParams{},
		"Webhook":           Webhook{},
		"HookResponse":      HookResponse{},
		"WebhookList":       WebhookList{},
		"Workflow":          Workflow{},
		"WorkflowList":      WorkflowList{},
		"RetryPolicy":       RetryPolicy{},
		"SendEmailAction":   SendEmailAction{},
		"HttpRequestAction": HTTPRequestAction{},
		"DelayAction":       DelayAction{},
		"FilterAction":      FilterAction{},
		"TransformAction":   TransformAction{},

		"WorkflowVersion":     WorkflowVersion{},
		"WorkflowVersionList": WorkflowVersionList{},
		"ReplayFilter":        ReplayFilter{},
		"ReplayCount":         ReplayCount{},
		"Replay":              Replay{},
		// The filters are left out when zero, and the dry run's flag is added by
		// Replays.Count: all set, so that they show.
		"CreateReplay": replayBody{CreateReplayParams: &CreateReplayParams{
			Status: ExecutionFailed, From: &epoch, To: &epoch, Limit: 1}, DryRun: true},
		"CreateShadowReplay": CreateShadowReplayParams{},
		"ShadowDefinition":   ShadowDefinition{},
		"ShadowDraft":        ShadowDefinition{},
		"ShadowSummary":      ShadowSummary{},
		"ShadowReplay":       ShadowReplay{},
		"ShadowStep":         ShadowStep{},
		"StepOutcome":        ShadowStep{},
		"ShadowRun":          ShadowRun{},
		"ShadowDifference":   ShadowDifference{},
		"ShadowResult":       ShadowResult{},
		"ShadowResultList":   ShadowResultList{},
	}
	configs := map[string]interface{}{
		"SendEmailAction":   SendEmailConfig{},
		"HttpRequestAction": HTTPRequestConfig{},
		"DelayAction":       DelayConfig{},
		"FilterAction":      FilterConfig{},
		"TransformAction":   TransformConfig{},
	}
	enums := map[string][]string{
		"ExecutionStatus": {string(ExecutionQueued), string(ExecutionRunning), string(ExecutionSuccess), string(ExecutionFailed)},
		"HookVerify":      {string(HookVerifyNone), string(HookVerifyHMACSHA256)},
		"ResponseMode":    {string(ResponseAsync), string(ResponseSync)},
		"Plan":            {string(PlanFree), string(PlanPro), string(PlanEnterprise)},
		"TriggerType":     {string(TriggerWebhook)},
		"WorkflowStatus":  {string(WorkflowDraft), string(WorkflowActive), string(WorkflowPaused)},
		"FinishedStatus":  {string(ExecutionSuccess), string(ExecutionFailed)},
		"ReplayStatus":    {string(ReplayRunning), string(ReplayCompleted), string(ReplayCancelled), string(ReplayFailed)},
	}
	// Unions: Action is the interface its five variants implement; TemplateValue is any
	// JSON value.
	unions := map[string]bool{"Action": true, "TemplateValue": true}

	var names []string
	for name := range schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		schema := schemas[name]
		switch {
		case unions[name]:
			continue
		case enums[name] != nil:
			var want []string
			for _, v := range schema["enum"].([]interface{}) {
				want = append(want, v.(string))
			}
			got := append([]string(nil), enums[name]...)
			sort.Strings(want)
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: constants %v, schema %v", name, got, want)
			}
			continue
		}
		v, ok := objects[name]
		if !ok {
			t.Errorf("schema %s has no Go type", name)
			continue
		}
		props, _ := schema["properties"].(map[string]interface{})
		keys := jsonKeys(v)
		for prop := range props {
			if !keys[prop] {
				t.Errorf("%s (%T) has no field for %q", name, v, prop)
			}
		}
		for key := range keys {
			if _, ok := props[key]; !ok {
				t.Errorf("%s (%T) writes %q, which the schema does not have", name, v, key)
			}
		}
		if cfg, ok := configs[name]; ok {
			cprops := props["config"].(map[string]interface{})["properties"].(map[string]interface{})
			ckeys := jsonKeys(cfg)
			for prop := range cprops {
				if !ckeys[prop] {
					t.Errorf("%s config (%T) has no field for %q", name, cfg, prop)
				}
			}
			for key := range ckeys {
				if _, ok := cprops[key]; !ok {
					t.Errorf("%s config (%T) writes %q, which the schema does not have", name, cfg, key)
				}
			}
		}
	}
}

func TestActionsRoundTrip(t *testing.T) {
	in := `[
	 {"type":"send_email","config":{"to":"{{user.email}}","subject":"Hi","body":"b","cc":"x@example.com"}},
	 {"type":"http_request","config":{"url":"https://example.com","method":"PUT","headers":{"a":"b"},"body":{"n":"{{n}}","k":[1,true,null]},"timeout_ms":500},"retry":{"max_attempts":3,"backoff":"2s"}},
	 {"type":"delay","config":{"seconds":5}},
	 {"type":"filter","config":{"condition":"amount > 100"}},
	 {"type":"transform","config":{"set":{"total":"{{a}}"}}},
	 {"type":"teleport","config":{"where":"moon"}}
	]`
	var as Actions
	if err := json.Unmarshal([]byte(in), &as); err != nil {
		t.Fatal(err)
	}
	if len(as) != 6 {
		t.Fatalf("%d actions", len(as))
	}
	if e, ok := as[0].(SendEmailAction); !ok || e.Config.To != "{{user.email}}" || len(e.Config.CC) != 1 {
		t.Errorf("%#v", as[0])
	}
	if h, ok := as[1].(HTTPRequestAction); !ok || h.Config.Method != "PUT" || h.Config.TimeoutMS != 500 ||
		h.Retry == nil || h.Retry.MaxAttempts != 3 || h.Retry.Backoff != "2s" {
		t.Errorf("%#v", as[1])
	}
	if d, ok := as[2].(DelayAction); !ok || d.Config.Seconds != 5 {
		t.Errorf("%#v", as[2])
	}
	if f, ok := as[3].(FilterAction); !ok || f.Config.Condition != "amount > 100" {
		t.Errorf("%#v", as[3])
	}
	if x, ok := as[4].(TransformAction); !ok || x.Config.Set["total"] != "{{a}}" {
		t.Errorf("%#v", as[4])
	}
	if r, ok := as[5].(RawAction); !ok || r.ActionType() != "teleport" {
		t.Errorf("%#v", as[5])
	}
	out, err := json.Marshal(as)
	if err != nil {
		t.Fatal(err)
	}
	var a, b interface{}
	json.Unmarshal([]byte(strings.Replace(in, `"cc":"x@example.com"`, `"cc":["x@example.com"]`, 1)), &a)
	json.Unmarshal(out, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("round trip:\n%s", out)
	}
}
