package main

import (
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"intake/bot"
	"intake/bot/console"
)

// TestKeysRotateCommand walks the operator's steps: check (all on key 1), add key 2 with
// generate --next, check (exit 1), rotate, remove key 1, check (exit 0); the conversation
// then still opens with key 2 alone.
func TestKeysRotateCommand(t *testing.T) {
	m := miniredis.RunT(t)
	t.Setenv("REDIS_URL", m.Addr())
	t.Setenv("INTAKE_PEPPER", b64(bot.RandomKey()))
	t.Setenv("INTAKE_SEAL_KEY", "")
	k1 := "1:" + b64(bot.RandomKey())
	t.Setenv("INTAKE_SEAL_KEYS", k1)

	// A turn of a conversation, by the service as serve wires it; true when the stored
	// conversation could not be opened and started again.
	talk := func() bool {
		t.Helper()
		cfg, err := loadConfig()
		if err != nil {
			t.Fatal(err)
		}
		store, _, closeStore, err := openStore(cfg, false, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		defer closeStore()
		svc, err := newService(cfg, store, contentSource{}, discardLogger())
		if err != nil {
			t.Fatal(err)
		}
		r, err := svc.engine.Handle(context.Background(), bot.Inbound{Channel: console.Name, Key: svc.names.Key(console.Name, "ana"), LangHint: "en", Text: "/help"})
		if err != nil {
			t.Fatal(err)
		}
		restarted, _ := svc.engine.Content().Catalog.Text("en", "engine.flow_changed", map[string]any{})
		for _, m := range r.Messages {
			if m.Text == restarted {
				return true
			}
		}
		return false
	}
	talk() // sealed with key 1

	steps := []struct {
		keys string // INTAKE_SEAL_KEYS; "next" for what generate --next prints
		args []string
		code int
		says []string
	}{
		{k1, []string{"--check"}, exitOK, []string{" values by key id\n", "sessions 1 1:1", "everything uses key 1\n"}},
		{"next", []string{"--check"}, exitInvalid, []string{"all 1 1:1\n", "1 value still uses another key than 2: run `intake keys rotate`"}},
		{"", nil, exitOK, []string{"values sealed again by key id", "sessions 1 1 2:1", "case stories 0 0\n", "all 1 1 2:1", "everything uses key 2; once every replica seals with key 2, key 1 can leave INTAKE_SEAL_KEYS"}},
		{"", nil, exitOK, []string{"sessions 1 0 2:1"}},
		{"only 2", []string{"--check"}, exitOK, []string{"all 1 2:1", "everything uses key 2\n"}},
		{"", []string{"extra"}, exitUsage, []string{"no arguments"}},
		{"", []string{"--help"}, exitOK, []string{"The pepper cannot be rotated"}},
	}
	for _, s := range steps {
		switch s.keys {
		case "":
		case "next":
			_, out, _ := call(t, "keys", "generate", "--next")
			for _, l := range strings.Split(out, "\n") {
				if v, ok := strings.CutPrefix(l, "INTAKE_SEAL_KEYS="); ok {
					t.Setenv("INTAKE_SEAL_KEYS", v)
				}
			}
		case "only 2":
			v, _, _ := strings.Cut(os.Getenv("INTAKE_SEAL_KEYS"), ",")
			t.Setenv("INTAKE_SEAL_KEYS", v)
		default:
			t.Setenv("INTAKE_SEAL_KEYS", s.keys)
		}
		code, out, errOut := call(t, append([]string{"keys", "rotate"}, s.args...)...)
		// The table's columns are compared with single spaces between them.
		squeezed := regexp.MustCompile(` +`).ReplaceAllString(out+errOut, " ")
		for _, want := range s.says {
			if code != s.code || !strings.Contains(squeezed, want) {
				t.Errorf("keys rotate %v with keys %s: exit %d (want %d), want %q in:\n%s%s", s.args, s.keys, code, s.code, want, out, errOut)
			}
		}
	}
	if talk() {
		t.Error("the conversation did not survive the rotation: it started again")
	}

	t.Setenv("REDIS_URL", "")
	if code, _, errOut := call(t, "keys", "rotate"); code != exitInvalid || !strings.Contains(errOut, "REDIS_URL is not set") {
		t.Errorf("without REDIS_URL: exit %d: %s", code, errOut)
	}
	if code, _, _ := call(t, "keys", "turn"); code != exitUsage {
		t.Errorf("an unknown subcommand: exit %d", code)
	}
}
