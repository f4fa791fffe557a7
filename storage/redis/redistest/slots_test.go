package redistest

import (
	"context"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

func TestSlot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want int
	}{
		// From the Redis documentation of CLUSTER KEYSLOT.
		{"somekey", 11058},
		{"foo{hash_tag}", 2515},
		{"bar{hash_tag}", 2515},
		// The hash tag rules of the cluster specification.
		{"{user1000}.following", Slot("user1000")},
		{"foo{}{bar}", Slot("foo{}{bar}")}, // empty first tag: the whole key
		{"foo{{bar}}zap", Slot("{bar")},
		{"foo{bar}{zap}", Slot("bar")},
		{"s:{conv}:lock", Slot("conv")},
	}
	for _, tt := range tests {
		if got := Slot(tt.key); got != tt.want {
			t.Errorf("Slot(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
}

// TestSlotGuard: the guard notes a command or transaction over several slots and nothing
// else. It asks COMMAND GETKEYS of the real Redis, which needs no cluster.
func TestSlotGuard(t *testing.T) {
	t.Parallel()
	if os.Getenv(EnvVar) == "" {
		t.Skipf("%s is not set: the guard needs a real Redis for COMMAND GETKEYS", EnvVar)
	}
	c, _ := Client(t)
	ctx := context.Background()
	cmd := func(args ...any) goredis.Cmder { return goredis.NewCmd(ctx, args...) }
	tx := func(cmds ...goredis.Cmder) []goredis.Cmder {
		return append(append([]goredis.Cmder{cmd("multi")}, cmds...), cmd("exec"))
	}
	tests := []struct {
		name  string
		cmds  []goredis.Cmder
		wrong bool
	}{
		{"one key", []goredis.Cmder{cmd("get", "a")}, false},
		{"no key", []goredis.Cmder{cmd("ping")}, false},
		{"mget, one tag", []goredis.Cmder{cmd("mget", "x{case}:1", "x{case}:2")}, false},
		{"mget, two slots", []goredis.Cmder{cmd("mget", "a", "b")}, true},
		{"script, one tag", []goredis.Cmder{cmd("evalsha", "0123", 2, "s:{c}", "s:{c}:lock", "tok")}, false},
		{"script, two slots", []goredis.Cmder{cmd("evalsha", "0123", 2, "s:{c}", "s:{d}:lock", "tok")}, true},
		{"transaction, one tag", tx(cmd("set", "{desk}:acct:a", "x"), cmd("sadd", "{desk}:accts", "a")), false},
		{"transaction, two slots", tx(cmd("set", "{desk}:acct:a", "x"), cmd("sadd", "accts", "a")), true},
		{"pipeline over two slots", []goredis.Cmder{cmd("get", "a"), cmd("get", "b")}, false},
	}
	for _, tt := range tests {
		g := &slotGuard{keys: c.(*goredis.Client)}
		hook := g.ProcessPipelineHook(func(context.Context, []goredis.Cmder) error { return nil })
		if len(tt.cmds) == 1 {
			hook = func(ctx context.Context, cmds []goredis.Cmder) error {
				return g.ProcessHook(func(context.Context, goredis.Cmder) error { return nil })(ctx, cmds[0])
			}
		}
		if err := hook(ctx, tt.cmds); err != nil {
			t.Fatal(err)
		}
		if got := len(g.wrong) > 0; got != tt.wrong {
			t.Errorf("%s: noted %v, want noted %v", tt.name, g.wrong, tt.wrong)
		}
	}
}
