package botcadence_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/botcadence/go-sdk"
)

func ExampleNewClient() {
	client := botcadence.NewClient("YOUR_API_KEY")
	workflows, err := client.Workflows.List()
	if err != nil {
		log.Fatal(err)
	}
	for _, wf := range workflows.Data {
		fmt.Println(wf.ID, wf.Name, wf.Status)
	}
}

func ExampleNewClient_options() {
	client := botcadence.NewClient(os.Getenv("BOTCADENCE_API_KEY"),
		botcadence.WithBaseURL("http://127.0.0.1:8080/v1"),
		botcadence.WithTimeout(10*time.Second),
		botcadence.WithMaxRetries(5),
		botcadence.WithHTTPClient(&http.Client{Transport: http.DefaultTransport}),
	)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	active, err := client.Workflows.ListContext(ctx, &botcadence.ListWorkflowsParams{
		Status: botcadence.WorkflowActive, PerPage: 100,
	}, botcadence.WithTimeout(2*time.Second)) // this call only
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(active.Total)
}

func ExampleWorkflowsService_Create() {
	client := botcadence.NewClient("YOUR_API_KEY")
	wf, err := client.Workflows.Create(&botcadence.CreateWorkflowParams{
		Name:    "New Workflow",
		Trigger: botcadence.Trigger{Type: botcadence.TriggerWebhook, Event: "user.created"},
		Actions: []botcadence.Action{
			botcadence.SendEmailAction{Config: botcadence.SendEmailConfig{
				To: "{{user.email}}", Subject: "Welcome!", Body: "Thanks for joining!",
			}},
		},
		Status: botcadence.WorkflowActive,
	})
	if err != nil {
		log.Fatal(err)
	}
	hook, err := client.Webhooks.Create(&botcadence.CreateWebhookParams{WorkflowID: wf.ID, Event: "user.created"})
	if err != nil {
		log.Fatal(err)
	}
	accepted, err := client.Events.Send(hook.ID, map[string]interface{}{
		"user": map[string]string{"email": "ada@example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(accepted.ExecutionID)
}

func ExampleWorkflowsService_Iterate() {
	client := botcadence.NewClient("YOUR_API_KEY")
	it := client.Workflows.Iterate(&botcadence.ListWorkflowsParams{PerPage: 100})
	for it.Next() {
		fmt.Println(it.Value().Name)
	}
	if err := it.Err(); err != nil {
		log.Fatal(err)
	}
}

func ExampleError() {
	client := botcadence.NewClient("YOUR_API_KEY")
	_, err := client.Workflows.Get("wf_missing")
	var apiErr *botcadence.Error
	switch {
	case errors.Is(err, botcadence.ErrTimeout):
		fmt.Println("timed out")
	case errors.Is(err, botcadence.ErrConnection):
		fmt.Println("no answer:", err)
	case errors.As(err, &apiErr) && apiErr.Code == "not_found":
		fmt.Println("no such workflow; request", apiErr.RequestID)
	case err != nil:
		log.Fatal(err)
	}
}

func ExampleVerifySignature() {
	secret := os.Getenv("BOTCADENCE_SIGNING_SECRET") // GET /v1/signing-secret
	http.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "unreadable", http.StatusBadRequest)
			return
		}
		if !botcadence.VerifySignature(body, r.Header.Get("X-Botcadence-Signature"), secret) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Or, with the Standard Webhooks headers (and a check of their timestamp):
		if err := botcadence.VerifyStandardWebhook(body, r.Header, secret); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
