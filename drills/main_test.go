package drills

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// buildTimeout bounds building ./cmd/intake (a cold build on a small machine takes about
// a minute; a warm one seconds).
const buildTimeout = 4 * time.Minute

var (
	binDir   string // removed when the test binary ends
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// intakeBinary builds ./cmd/intake once per test binary and returns its path.
func intakeBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "intake-drills-")
		if err != nil {
			binError = err
			return
		}
		binDir = dir
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		out := filepath.Join(dir, "intake")
		build := exec.CommandContext(ctx, goTool(), "build", "-o", out, "intake/cmd/intake")
		if msg, err := build.CombinedOutput(); err != nil {
			binError = fmt.Errorf("go build intake/cmd/intake: %v\n%s", err, msg)
			return
		}
		binPath = out
	})
	if binError != nil {
		t.Fatalf("the drills run the real binary, and it did not build: %v", binError)
	}
	return binPath
}

// goTool is the go command that runs this test.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newKey is a random base64 key of 32 bytes, as `intake keys generate` makes.
func newKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// seed returns the drill's random seed: INTAKE_DRILL_SEED when set, else a new one. It is
// logged, so a failing run can be replayed.
func seed(t *testing.T) *mathrand.Rand {
	t.Helper()
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("INTAKE_DRILL_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("INTAKE_DRILL_SEED=%q is not a number", v)
		}
		s = n
	}
	t.Logf("seed %d (replay with INTAKE_DRILL_SEED=%d)", s, s)
	return mathrand.New(mathrand.NewPCG(s, s^0x5eed))
}

// lockedRand is a seeded source shared by goroutines.
type lockedRand struct {
	mu sync.Mutex
	r  *mathrand.Rand
}

func (l *lockedRand) intN(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}

// perm returns a random permutation of 0..n-1.
func (l *lockedRand) perm(n int) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Perm(n)
}

// between returns a duration in [lo, hi).
func (l *lockedRand) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(l.intN(int(hi-lo)))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
