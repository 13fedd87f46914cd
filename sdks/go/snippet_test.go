package botcadence_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// snippetProgram is the API reference's Go snippet in a program of its own, as a user
// writes it: imported by its module path, with only the key filled in.
const snippetProgram = `package main

import (
	"fmt"
	"os"

	"github.com/botcadence/go-sdk"
)

func main() {
	client := botcadence.NewClient("YOUR_API_KEY")
	workflows, err := client.Workflows.List()
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("workflows:", workflows.Total)
}
`

// buildSnippet writes the program in a module of its own that uses this directory in
// place of github.com/botcadence/go-sdk, as the README says to, and builds it.
func buildSnippet(t *testing.T, key string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	sdk, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/snippet\n\ngo 1.19\n\n" +
		"require github.com/botcadence/go-sdk v0.0.0-00010101000000-000000000000\n\n" +
		"replace github.com/botcadence/go-sdk => " + sdk + "\n"
	src := strings.Replace(snippetProgram, "YOUR_API_KEY", key, 1)
	for name, text := range map[string]string{"go.mod": gomod, "main.go": src} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "snippet")
	cmd := exec.Command(goBin, "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the reference snippet does not build: %v\n%s", err, out)
	}
	return bin
}

func TestReferenceSnippetBuilds(t *testing.T) {
	buildSnippet(t, "YOUR_API_KEY")
}

func TestLiveReferenceSnippetProgram(t *testing.T) {
	admin := adminClient(t)
	_, key := newAccount(t, admin, "enterprise")
	bin := buildSnippet(t, key)
	// The daemon's address reaches the program only through BOTCADENCE_BASE_URL.
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "workflows: 0" {
		t.Errorf("%v: %s", err, out)
	}
}
