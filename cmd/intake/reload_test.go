package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// copyContent copies the default scripts and texts to a folder a test may edit.
func copyContent(t *testing.T) contentSource {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"flows", "locales"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, pat := range []string{"*.yaml", "*.toml"} {
			files, _ := filepath.Glob(filepath.Join("../..", sub, pat))
			for _, f := range files {
				src, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, sub, filepath.Base(f)), src, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return contentSource{flowsDir: filepath.Join(dir, "flows"), localesDir: filepath.Join(dir, "locales")}
}

// TestReloadPublishesValidEditsOnly: the support officer saves an edit; a valid one goes
// live, an invalid one is refused with its problems logged and the running version stays.
func TestReloadPublishesValidEditsOnly(t *testing.T) {
	src := copyContent(t)
	cfg := config{keyConfig: throwawayKeys()}
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	svc, err := newService(cfg, redistest.New(t, redis.Options{}), src, log)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(src.flowsDir, "intake.yaml")
	orig, _ := os.ReadFile(script)
	before := src.stamp()

	v := svc.engine.Content().Flows["intake"].Version
	edited := strings.Replace(string(orig), fmt.Sprintf("version: %d", v), fmt.Sprintf("version: %d", v+1), 1)
	if err := os.WriteFile(script, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if src.stamp() == before {
		t.Fatal("the edit is not noticed")
	}
	svc.reload(context.Background(), "test")
	if got := svc.engine.Content().Flows["intake"].Version; got != v+1 {
		t.Fatalf("valid edit not published: version %d", got)
	}

	broken := strings.Replace(edited, fmt.Sprintf("version: %d", v+1), fmt.Sprintf("version: %d", v+2), 1)
	broken = strings.Replace(broken, "next: relation", "next: nowhere", 1)
	if err := os.WriteFile(script, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	svc.reload(context.Background(), "test")
	if got := svc.engine.Content().Flows["intake"].Version; got != v+1 {
		t.Fatalf("invalid edit went live: version %d", got)
	}
	if !strings.Contains(logs.String(), "reload refused") || !strings.Contains(logs.String(), "nowhere") {
		t.Errorf("the refusal and its problem are not logged:\n%s", logs.String())
	}
}
