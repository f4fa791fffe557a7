package redis_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// clusterRunTimeout bounds the second run of this package's tests on the cluster.
const clusterRunTimeout = 40 * time.Second

// TestCluster is the Redis Cluster drill: the store works unchanged on a three-master
// cluster. It starts one on loopback ports (or uses INTAKE_TEST_REDIS_CLUSTER), runs every
// other test of this package again on it, where redistest fails any test whose command or
// transaction used keys of more than one slot, and checks how the keys are spread.
func TestCluster(t *testing.T) {
	addr := os.Getenv(redistest.ClusterEnvVar)
	rerun := addr == "" // the tests of this run use the plain Redis: run them again on a cluster
	if rerun {
		addr = redistest.StartCluster(t)
	}
	t.Run("every storage test", func(t *testing.T) {
		if !rerun {
			t.Skipf("%s is set: this run's tests already use that cluster", redistest.ClusterEnvVar)
		}
		runTestsOn(t, addr)
	})
	t.Run("sessions spread over the masters", func(t *testing.T) {
		sessionsSpread(t, addr)
	})
	t.Run("case and desk keys stay on one slot", func(t *testing.T) {
		caseKeysOnOneSlot(t, addr)
	})
}

// runTestsOn runs this test binary again, without TestCluster, with the cluster at addr
// in INTAKE_TEST_REDIS_CLUSTER, and fails when any test fails there.
func runTestsOn(t *testing.T, addr string) {
	ctx, cancel := context.WithTimeout(t.Context(), clusterRunTimeout)
	defer cancel()
	args := []string{"-test.v", "-test.count=1", "-test.skip=^TestCluster$", "-test.timeout=" + clusterRunTimeout.String()}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), redistest.ClusterEnvVar+"="+addr)
	out, err := cmd.CombinedOutput()
	passed := regexp.MustCompile(`(?m)^--- PASS: `).FindAll(out, -1)
	if err != nil || !strings.Contains(string(out), "testing against a Redis Cluster") || len(passed) < 20 {
		t.Fatalf("the storage tests on the cluster: %v, %d passed\n%s", err, len(passed), out)
	}
	t.Logf("%d storage tests passed on the cluster", len(passed))
}

// sessionsSpread stores sessions of many conversations and checks that they land on more
// than one master: turns, the bulk of the traffic, use the whole cluster.
func sessionsSpread(t *testing.T, addr string) {
	ctx := t.Context()
	c, prefix := redistest.ClientOn(t, addr)
	s := redis.New(c, redis.Options{Prefix: prefix})
	const convs = 30
	for i := range convs {
		l, _, err := s.Lock(ctx, fmt.Sprintf("conv-%02d", i))
		if err != nil {
			t.Fatalf("lock: %v", err)
		}
		if err := s.Save(ctx, l, []byte("sealed")); err != nil {
			t.Fatalf("save: %v", err)
		}
	}
	perMaster := keysPerMaster(t, c, prefix+"s:*")
	used, total := 0, 0
	for _, keys := range perMaster {
		if len(keys) > 0 {
			used++
		}
		total += len(keys)
	}
	if total != convs || used < 2 {
		t.Fatalf("%d sessions on %d of %d masters (%v), want all %d spread over several", total, used, len(perMaster), counts(perMaster), convs)
	}
	t.Logf("%d sessions over the masters: %v", convs, counts(perMaster))

	// The store's own scans (intake bench's memory figures, its clean-up) see every master.
	usage, err := s.MemoryUsage(ctx)
	if err != nil || usage["sessions"].Keys != convs {
		t.Errorf("memory usage counts %d sessions (%v), want %d", usage["sessions"].Keys, err, convs)
	}
	if n, err := s.DeleteAll(ctx); err != nil || n != convs {
		t.Errorf("delete all: %d, %v; want %d", n, err, convs)
	}
	if keys := redistest.Keys(t, c, prefix+"*"); len(keys) != 0 {
		t.Errorf("left after delete all: %q", keys)
	}
}

// caseKeysOnOneSlot goes through the life of cases and desk accounts and checks that every
// key they leave shares its group's slot: the {case} keys one, the {desk} keys one, so the
// scripts and transactions that change several of them at once can run on a cluster.
// The slot of every key is also asked of the server, to hold redistest.Slot (which the
// per-command check relies on) to what Redis computes.
func caseKeysOnOneSlot(t *testing.T, addr string) {
	ctx := t.Context()
	c, prefix := redistest.ClientOn(t, addr)
	s := redis.New(c, redis.Options{Prefix: prefix})

	handoff, rec := newCase("CLUS-0001", "cluster-handoff")
	if _, err := s.CreateCase(ctx, handoff, rec); err != nil {
		t.Fatalf("create handoff: %v", err)
	}
	handoff.Status, handoff.Counsellor = bot.StatusClaimed, "anna"
	if err := s.SaveCase(ctx, &handoff); err != nil {
		t.Fatalf("claim: %v", err)
	}
	if err := s.AppendEntry(ctx, handoff.Code, bot.Entry{At: created, From: bot.FromCounsellor, Kind: bot.EntryMessage, Text: []byte("sealed")}); err != nil {
		t.Fatalf("append entry: %v", err)
	}
	handoff.Status, handoff.FollowUp, handoff.ClosedAt = bot.StatusClosed, "advice", created.Add(time.Hour)
	if err := s.SaveCase(ctx, &handoff); err != nil {
		t.Fatalf("close: %v", err)
	}
	withdrawn, wrec := newCase("CLUS-0002", "cluster-withdrawn")
	if _, err := s.CreateCase(ctx, withdrawn, wrec); err != nil {
		t.Fatalf("create second handoff: %v", err)
	}
	if err := s.WithdrawCase(ctx, withdrawn.Code); err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	if _, err := s.ImportRecords(ctx, 2024, "counts-2024.csv", []bot.Record{{Year: 2024, Month: 1, Kind: bot.CaseRegistration}}); err != nil {
		t.Fatalf("import records: %v", err)
	}
	if n, err := s.PurgeBefore(ctx, created.Add(2*time.Hour), 0); err != nil || n != 1 {
		t.Fatalf("purge: %d, %v; want 1 purged", n, err)
	}
	if err := s.PutAccount(ctx, bot.Account{Name: "anna", Role: bot.RoleCounsellor, PassHash: "argon2id$x"}); err != nil {
		t.Fatalf("put account: %v", err)
	}
	if _, err := s.CountFailure(ctx, "anna", time.Minute); err != nil {
		t.Fatalf("count failure: %v", err)
	}
	if err := s.Audit(ctx, bot.AuditEntry{Day: "2026-03-02", Account: "anna", Case: handoff.Code, Action: "claim"}); err != nil {
		t.Fatalf("audit: %v", err)
	}

	for _, tag := range []string{"{case}", "{desk}"} {
		keys := redistest.Keys(t, c, prefix+tag+"*")
		if len(keys) < 3 {
			t.Fatalf("%s: only %q", tag, keys)
		}
		slots := map[int64][]string{}
		for _, k := range keys {
			slot, err := c.ClusterKeySlot(ctx, k).Result()
			if err != nil {
				t.Fatalf("cluster keyslot: %v", err)
			}
			if int(slot) != redistest.Slot(k) {
				t.Errorf("redistest.Slot(%q) = %d, Redis says %d", k, redistest.Slot(k), slot)
			}
			slots[slot] = append(slots[slot], k)
		}
		if len(slots) != 1 {
			t.Errorf("%s keys on %d slots, want one: %v", tag, len(slots), slots)
		}
	}
}

// keysPerMaster lists the keys matching pattern on each master of c.
func keysPerMaster(t *testing.T, c goredis.UniversalClient, pattern string) map[string][]string {
	t.Helper()
	var mu sync.Mutex
	out := map[string][]string{}
	err := redistest.Masters(t.Context(), c, func(ctx context.Context, node goredis.UniversalClient) error {
		keys, err := node.Keys(ctx, pattern).Result()
		mu.Lock()
		out[node.(*goredis.Client).Options().Addr] = keys
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatalf("keys per master: %v", err)
	}
	return out
}

func counts(perMaster map[string][]string) map[string]int {
	out := map[string]int{}
	for m, keys := range perMaster {
		out[m] = len(keys)
	}
	return out
}
