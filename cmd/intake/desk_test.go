package main

import (
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
)

func TestDeskUserCommands(t *testing.T) {
	m := miniredis.RunT(t)
	t.Setenv("REDIS_URL", m.Addr())
	run := func(stdin string, args ...string) (int, string) {
		var out, errOut strings.Builder
		code := exitCode(desk(args, strings.NewReader(stdin), &out, &errOut), &errOut)
		return code, out.String() + errOut.String()
	}
	steps := []struct {
		stdin string
		args  []string
		code  int
		says  string
	}{
		{"", []string{"user", "list"}, exitOK, "no accounts yet"},
		{"correct horse battery\n", []string{"user", "add", "Anna"}, exitOK, "account anna (counsellor) saved"},
		{"correct horse battery\n", []string{"user", "add", "sam", "--role", "support"}, exitOK, "account sam (support) saved"},
		{"short\n", []string{"user", "add", "bram"}, exitInvalid, "at least 12 characters"},
		{"correct horse battery\n", []string{"user", "add", "x"}, exitInvalid, "2 to 32 characters"},
		{"correct horse battery\n", []string{"user", "add", "bram", "--role", "boss"}, exitInvalid, "counsellor, support or admin"},
		{"", []string{"user", "list"}, exitOK, "anna                             counsellor\nsam                              support"},
		{"", []string{"user", "remove", "sam"}, exitOK, "account sam removed"},
		{"", []string{"user", "remove", "sam"}, exitInvalid, `no account "sam"`},
		{"", []string{"user", "rename"}, exitUsage, "use add, remove or list"},
		{"", []string{"group"}, exitUsage, "intake desk user add|remove|list"},
		{"", []string{"--help"}, exitOK, "Usage: intake desk user add"},
	}
	for _, s := range steps {
		code, out := run(s.stdin, s.args...)
		if code != s.code || !strings.Contains(out, s.says) {
			t.Errorf("desk %v: exit %d, want %d saying %q:\n%s", s.args, code, s.code, s.says, out)
		}
	}
	t.Setenv("REDIS_URL", "")
	if code, out := run("", "user", "list"); code != exitInvalid || !strings.Contains(out, "REDIS_URL is not set") {
		t.Errorf("without REDIS_URL: exit %d\n%s", code, out)
	}
}
