package drills

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"intake/storage/redis"
)

// redisServer is a redis-server the test started on its own loopback port and folder, so
// killing, restarting and reading it are the test's alone.
type redisServer struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	aof  bool
	cmd  *exec.Cmd
	done chan struct{}
	// store reads what intake wrote, for the drill's checks.
	store *redis.Store
}

// startRedis starts a redis-server. With aof, every write is appended to the AOF and
// written to the kernel before its reply goes out; fsync is once a second (everysec, as
// docker-compose.yml runs it): a killed server loses nothing it acknowledged, only a
// machine crash could lose the last second, which a kill cannot show.
func startRedis(t *testing.T, aof bool) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not on the PATH: the drills start Redis themselves, to kill and restart it. " +
			"Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis); CI has it.")
	}
	r := &redisServer{t: t, bin: bin, port: freePort(t), dir: t.TempDir(), aof: aof}
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.kill)
	client, err := redis.Open(r.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	r.store = redis.New(client, redis.Options{})
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }
func (r *redisServer) url() string  { return "redis://" + r.addr() + "/0" }

// start runs redis-server on the port and folder (again) and waits until it answers.
func (r *redisServer) start() error {
	appendonly := "no"
	if r.aof {
		appendonly = "yes"
	}
	cmd := exec.Command(r.bin,
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", appendonly, "--appendfsync", "everysec",
		"--logfile", filepath.Join(r.dir, "redis.log"), "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	r.cmd, r.done = cmd, done
	client, err := redis.Open(r.addr())
	if err != nil {
		return err
	}
	defer client.Close()
	store := redis.New(client, redis.Options{})
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := store.Ping(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server on port %d exited at start; see %s", r.port, filepath.Join(r.dir, "redis.log"))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on port %d does not answer after 15 s: %w", r.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops redis-server with SIGKILL: no shutdown, no last write.
func (r *redisServer) kill() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// keys returns the keys matching a glob pattern.
func (r *redisServer) keys(pattern string) []string {
	r.t.Helper()
	client, err := redis.Open(r.addr())
	if err != nil {
		r.t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	keys, err := client.Keys(ctx, pattern).Result()
	if err != nil {
		r.t.Fatalf("keys %s: %v", pattern, err)
	}
	return keys
}

// records counts the registry records of this year and the last (a drill run at midnight
// on New Year's Eve spans both).
func (r *redisServer) records() int {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := 0
	year := time.Now().Year()
	for _, y := range []int{year - 1, year, year + 1} {
		recs, err := r.store.Records(ctx, y)
		if err != nil {
			r.t.Fatalf("registry %d: %v", y, err)
		}
		n += len(recs)
	}
	return n
}

func (r *redisServer) String() string {
	return fmt.Sprintf("redis-server on %s (folder %s)", r.addr(), r.dir)
}
