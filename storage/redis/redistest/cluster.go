package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ClusterEnvVar names a Redis Cluster to test against instead of EnvVar: a
// redis+cluster:// URL (see redis.Open). The cluster drill in storage/redis sets it for
// the storage tests it runs again on a cluster it starts; set it by hand to run any
// package's tests on a cluster of your own.
const ClusterEnvVar = "INTAKE_TEST_REDIS_CLUSTER"

// clusterMasters is how many masters StartCluster starts: the fewest a cluster needs.
const clusterMasters = 3

// clusterReady bounds the wait for a started cluster to cover every slot.
const clusterReady = 15 * time.Second

// installHint says how to get the binaries StartCluster runs.
const installHint = "redis-server and redis-cli come with Redis: `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)"

// Cluster returns the Redis Cluster named by ClusterEnvVar, or else starts one with
// StartCluster.
func Cluster(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv(ClusterEnvVar); addr != "" {
		return addr
	}
	return StartCluster(t)
}

// StartCluster starts a Redis Cluster of three masters without replicas on free loopback
// ports, waits until it serves every slot, and returns its redis+cluster:// URL. The
// servers are killed, and their files removed, when t ends.
//
// It runs redis-server and redis-cli. Where EnvVar is set (CI, and any machine testing
// against a real Redis) a missing binary fails the test, saying how to install it; on a
// machine without EnvVar, which tests against miniredis, the test is skipped instead.
func StartCluster(t testing.TB) string {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			if os.Getenv(EnvVar) == "" {
				t.Skipf("%s is not installed and %s is not set: skipping the Redis Cluster test; %s", bin, EnvVar, installHint)
			}
			t.Fatalf("the Redis Cluster test needs %s, which is not installed: %s", bin, installHint)
		}
	}
	dir := t.TempDir()
	ports := freePorts(t, 2*clusterMasters) // a client port and a cluster bus port each
	addrs := make([]string, clusterMasters)
	nodes := make([]node, clusterMasters)
	for i := range clusterMasters {
		nodes[i] = startNode(t, dir, ports[2*i], ports[2*i+1])
		addrs[i] = nodes[i].addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterReady)
	defer cancel()
	for _, n := range nodes {
		n.waitPing(ctx, t)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range nodes {
		n.waitClusterOK(ctx, t)
	}
	return "redis+cluster://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]
}

// node is one redis-server of a cluster StartCluster runs.
type node struct {
	addr   string
	log    string        // its log file
	exited chan struct{} // closed when the process ends
}

// startNode starts one cluster-enabled redis-server in the foreground, killed when t ends.
func startNode(t testing.TB, dir string, port, bus int) node {
	t.Helper()
	p := strconv.Itoa(port)
	n := node{
		addr:   net.JoinHostPort("127.0.0.1", p),
		log:    filepath.Join(dir, "redis-"+p+".log"),
		exited: make(chan struct{}),
	}
	cmd := exec.Command("redis-server",
		"--bind", "127.0.0.1", "--port", p,
		"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
		"--cluster-config-file", "nodes-"+p+".conf", "--dir", dir,
		"--save", "", "--appendonly", "no", "--logfile", n.log)
	if err := cmd.Start(); err != nil {
		t.Fatalf("redistest: start redis-server on port %s: %v", p, err)
	}
	go func() {
		_ = cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-n.exited
	})
	return n
}

// freePorts returns n loopback ports that were free a moment ago: all are held open at
// once, so they differ, then released for the servers.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("redistest: find a free port: %v", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// waitPing waits until the server answers.
func (n node) waitPing(ctx context.Context, t testing.TB) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: n.addr, MaxRetries: -1})
	defer c.Close()
	n.poll(ctx, t, func() error { return c.Ping(ctx).Err() })
}

// waitClusterOK waits until the node sees the whole cluster: state ok, every slot served,
// every master known.
func (n node) waitClusterOK(ctx context.Context, t testing.TB) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: n.addr, MaxRetries: -1})
	defer c.Close()
	want := []string{"cluster_state:ok", "cluster_slots_ok:16384", "cluster_known_nodes:" + strconv.Itoa(clusterMasters)}
	n.poll(ctx, t, func() error {
		info, err := c.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		for _, w := range want {
			if !strings.Contains(info, w+"\r\n") {
				return errors.New("not yet " + w)
			}
		}
		return nil
	})
}

// poll retries check every 50ms until it succeeds, failing t when ctx ends or the server
// exits first (say, when another process took its port meanwhile), with its log.
func (n node) poll(ctx context.Context, t testing.TB, check func() error) {
	t.Helper()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-n.exited:
			log, _ := os.ReadFile(n.log)
			t.Fatalf("redistest: redis-server %s exited: %v\n%s", n.addr, err, log)
		case <-ctx.Done():
			t.Fatalf("redistest: cluster node %s not ready after %v: %v", n.addr, clusterReady, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Masters calls fn with a client of each master of c when c is a cluster client (for all
// masters at once, so fn must guard what it shares), or with c itself: the way to reach
// every key, since SCAN and KEYS through a cluster client see one node.
func Masters(ctx context.Context, c goredis.UniversalClient, fn func(ctx context.Context, node goredis.UniversalClient) error) error {
	cc, ok := c.(*goredis.ClusterClient)
	if !ok {
		return fn(ctx, c)
	}
	return cc.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
		return fn(ctx, node)
	})
}

// keysOn returns the keys matching pattern on one server (or cluster node), with SCAN.
func keysOn(ctx context.Context, c goredis.UniversalClient, pattern string) ([]string, error) {
	var out []string
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, pattern, 500).Result()
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		out = append(out, keys...)
		if next == 0 {
			return out, nil
		}
		cursor = next
	}
}
