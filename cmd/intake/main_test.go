package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// call runs the intake command with args and returns its exit code and output.
func call(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		says string
	}{
		{[]string{"help"}, exitOK, "Usage: intake <command>"},
		{[]string{}, exitUsage, "Usage: intake <command>"},
		{[]string{"frobnicate"}, exitUsage, "unknown command \"frobnicate\""},
		{[]string{"chat", "--help"}, exitOK, "Usage: intake chat"},
		{[]string{"help", "chat"}, exitOK, "Usage: intake chat"},
		{[]string{"chat", "--nope"}, exitUsage, "flag provided but not defined"},
		{[]string{"chat", "--lang", "fr"}, exitUsage, "choose nl, en or de"},
		{[]string{"flows"}, exitUsage, "validate|graph|test"},
		{[]string{"flows", "draw"}, exitUsage, "unknown flows command"},
		{[]string{"flows", "graph"}, exitUsage, "intake flows graph"},
		{[]string{"flows", "graph", "--format", "png", "intake"}, exitUsage, "choose mermaid or dot"},
		{[]string{"flows", "graph", "nosuchflow"}, exitInvalid, "no flow with id"},
		{[]string{"flows", "validate", "/no/such/dir"}, exitUsage, "is not a folder"},
		{[]string{"keys"}, exitUsage, "intake keys generate"},
		{[]string{"bench", "--students", "0"}, exitUsage, "at least 1"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errOut := call(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, out, errOut)
			}
			if !strings.Contains(out+errOut, c.says) {
				t.Errorf("output does not say %q:\n%s%s", c.says, out, errOut)
			}
		})
	}
}

func TestValidateDefaultFlows(t *testing.T) {
	code, out, errOut := call(t, "flows", "validate", "../../flows")
	if code != exitOK || !strings.HasPrefix(out, "ok: ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("exit %d, want one ok line:\n%s%s", code, out, errOut)
	}
}

// TestValidateBrokenCopy: a support officer breaks a copy of the script and reads exactly
// where and why.
func TestValidateBrokenCopy(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../../flows/intake.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(src), "next: relation", "next: relashun", 1)
	if err := os.MkdirAll(filepath.Join(dir, "flows"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "flows", "intake.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	crisis, err := os.ReadFile("../../flows/crisis.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "flows", "crisis.yaml"), crisis, 0o644); err != nil {
		t.Fatal(err)
	}
	line := 1 + strings.Count(broken[:strings.Index(broken, "relashun")], "\n")
	code, out, _ := call(t, "flows", "validate", "--locales", "../../locales", filepath.Join(dir, "flows"))
	if code != exitInvalid {
		t.Fatalf("exit %d, want %d:\n%s", code, exitInvalid, out)
	}
	want := regexp.MustCompile(`intake\.yaml:` + strconv.Itoa(line) + `:\d+: .*relashun`)
	if !want.MatchString(out) {
		t.Fatalf("want a problem at intake.yaml:%d naming relashun, got:\n%s", line, out)
	}
}

func TestFlowsTestPasses(t *testing.T) {
	code, out, errOut := call(t, "flows", "test", "../../flows")
	if code != exitOK || !regexp.MustCompile(`flows: [1-9]\d* passed, 0 failed`).MatchString(out) {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
}

func TestGraph(t *testing.T) {
	code, out, _ := call(t, "flows", "graph", "--format", "dot", "intake")
	if code != exitOK || !strings.Contains(out, "digraph") || !strings.Contains(out, "category") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestServeRefusesWithoutKeys(t *testing.T) {
	t.Setenv("INTAKE_PEPPER", "")
	t.Setenv("INTAKE_SEAL_KEY", "")
	t.Setenv("REDIS_URL", "127.0.0.1:1")
	code, _, errOut := call(t, "serve")
	if code != exitInvalid || !strings.Contains(errOut, "intake keys generate") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	t.Setenv("INTAKE_PEPPER", "c2hvcnQ=") // "short"
	code, _, errOut = call(t, "serve")
	if code != exitInvalid || !strings.Contains(errOut, "INTAKE_PEPPER is 5 bytes") || strings.Contains(errOut, "c2hvcnQ") {
		t.Fatalf("a weak pepper must be named without its value; exit %d: %s", code, errOut)
	}
}

func TestKeysGenerate(t *testing.T) {
	code, out, _ := call(t, "keys", "generate")
	if code != exitOK {
		t.Fatal(out)
	}
	t.Setenv("INTAKE_SEAL_KEY", "")
	for _, name := range []string{"INTAKE_PEPPER", "INTAKE_SEAL_KEYS"} {
		m := regexp.MustCompile(`(?m)^` + name + `=(.+)$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %s line:\n%s", name, out)
		}
		t.Setenv(name, m[1])
	}
	cfg, err := loadConfig()
	if err != nil || len(cfg.pepper) != 32 || len(cfg.sealKeys) != 1 || cfg.sealKeys[0].id != 1 {
		t.Fatalf("generated keys do not load: %v", err)
	}
}

// TestChatPiped: a conversation piped into `intake chat` runs to its end and exits cleanly.
func TestChatPiped(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	var out, errOut strings.Builder
	err := chat([]string{"--lang", "en"}, strings.NewReader("1\n9\n1\n1\nIt happened twice.\n"), &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "you> It happened twice.") {
		t.Fatalf("piped input is not echoed as a transcript:\n%s", out.String())
	}
	if errOut.Len() > 0 {
		t.Errorf("warnings on a clean run: %s", errOut.String())
	}
}

func TestBenchRuns(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	code, out, errOut := call(t, "bench", "--students", "3", "--intakes", "1")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"turns/s", "p50", "round trips per turn", "bytes on average"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench output lacks %q:\n%s", want, out)
		}
	}
}

// TestChannelConfigErrorsStopTheService: a channel configured wrongly stops the service
// with a message that says what to fix and never shows the token.
func TestChannelConfigErrorsStopTheService(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("INTAKE_TELEGRAM_TOKEN", "123456:SECRET-TOKEN-VALUE")
	t.Setenv("INTAKE_TELEGRAM_MODE", "webhook")
	t.Setenv("INTAKE_TELEGRAM_WEBHOOK_SECRET", "")
	code, out, errOut := call(t, "dev", "--http", "127.0.0.1:0")
	if code != exitInvalid || !strings.Contains(errOut, "INTAKE_TELEGRAM_WEBHOOK_SECRET") {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "SECRET-TOKEN-VALUE") {
		t.Fatal("the token leaked into the output")
	}
}
