package drills

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"intake/bot/telegram/telegramtest"
)

// Telegram settings of every drill; the fake Bot API accepts this token.
const (
	botToken      = "123456789:AAFakeTokenForDrillsOnly_abcdefghijkl"
	webhookSecret = "drill-webhook-secret-0123456789abcdef"
)

// startTimeout bounds how long a serve process may take to answer /healthz.
const startTimeout = 20 * time.Second

// world is what a drill's processes share: one Redis, the fake Telegram, the keys.
type world struct {
	t      *testing.T
	bin    string
	redis  *redisServer
	api    *telegramtest.Server
	pepper string
	seal   string
	procs  []*intake
}

func newWorld(t *testing.T, aof bool) *world {
	t.Helper()
	w := &world{t: t, bin: intakeBinary(t), redis: startRedis(t, aof), api: telegramtest.NewServer(botToken), pepper: newKey(), seal: newKey()}
	t.Cleanup(w.api.Close)
	return w
}

// intake is one `intake serve` process, restartable on the same address.
type intake struct {
	w    *world
	name string
	addr string
	env  []string
	dir  string // its working folder
	log  string // stderr and stdout of every run, appended
	cmd  *exec.Cmd
	done chan struct{}
	runs int
}

// serve starts a serve process named name (its INTAKE_REPLICA) in webhook mode.
func (w *world) serve(name string) *intake {
	w.t.Helper()
	return w.serveMode(name, "INTAKE_TELEGRAM_MODE=webhook", "INTAKE_TELEGRAM_WEBHOOK_SECRET="+webhookSecret)
}

// servePoll starts a serve process named name in poll mode: it takes the poll lease and
// fetches updates with getUpdates. Started again under the same name after a kill, it
// renews its own lease at once instead of waiting for it to run out.
func (w *world) servePoll(name string) *intake {
	w.t.Helper()
	return w.serveMode(name, "INTAKE_TELEGRAM_MODE=poll")
}

// serveMode starts a serve process named name with the Telegram mode settings in mode.
func (w *world) serveMode(name string, mode ...string) *intake {
	w.t.Helper()
	p := &intake{w: w, name: name, addr: "127.0.0.1:" + strconv.Itoa(freePort(w.t)), dir: w.t.TempDir()}
	p.log = filepath.Join(p.dir, "serve.log")
	p.env = append(cleanEnv(),
		"REDIS_URL="+w.redis.url(),
		"INTAKE_PEPPER="+w.pepper,
		"INTAKE_SEAL_KEY="+w.seal,
		"INTAKE_HTTP_ADDR="+p.addr,
		"INTAKE_PUBLIC_URL=http://"+p.addr,
		"INTAKE_ADMIN_ADDR=off",
		"INTAKE_REPLICA="+name,
		"INTAKE_SECURE_COOKIES=0", // the desk is reached over plain loopback HTTP
		"INTAKE_MAX_CASES_PER_HOUR=100000",
		"INTAKE_TELEGRAM_TOKEN="+botToken,
		"INTAKE_TELEGRAM_SERVER_URL="+w.api.URL(),
	)
	p.env = append(p.env, mode...)
	if err := p.start(); err != nil {
		w.t.Fatal(err)
	}
	w.procs = append(w.procs, p)
	w.t.Cleanup(p.kill)
	return p
}

// cleanEnv is the test's environment without anything intake reads, so a developer's own
// settings cannot leak into the drill.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "INTAKE_") || strings.HasPrefix(kv, "REDIS_URL=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// webhook is the address Telegram posts this process's updates to.
func (p *intake) webhook() string { return "http://" + p.addr + "/telegram/webhook" }

func (p *intake) url(path string) string { return "http://" + p.addr + path }

// start runs the process (again) and waits until /readyz answers 200: Redis answers, the
// flows are loaded, the Telegram channel runs.
func (p *intake) start() error {
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	p.runs++
	fmt.Fprintf(logf, "=== run %d at %s\n", p.runs, time.Now().Format("15:04:05.000"))
	cmd := exec.Command(p.w.bin, "serve")
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = p.env, p.dir, logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start intake serve: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	deadline := time.Now().Add(startTimeout)
	for {
		if status, _ := get(p.url("/readyz")); status == http.StatusOK {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("intake serve %s exited at start:\n%s", p.name, p.logTail(40))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("intake serve %s not ready (/readyz) after %v:\n%s", p.name, startTimeout, p.logTail(40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the process with SIGKILL: no shutdown, no last reply, nothing flushed.
func (p *intake) kill() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// alive reports whether the process started last is still running.
func (p *intake) alive() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// logTail is the last n lines the process wrote, for a failure message.
func (p *intake) logTail(n int) string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// logs is everything the world's processes wrote.
func (w *world) logs() string {
	var b bytes.Buffer
	for _, p := range w.procs {
		data, _ := os.ReadFile(p.log)
		b.Write(data)
	}
	return b.String()
}

// checkLogs fails the test when a process logged anything of a student: their chat id or
// words they typed. Run it at the end of a drill.
func (w *world) checkLogs(private ...string) {
	w.t.Helper()
	logs := w.logs()
	for _, s := range private {
		if strings.Contains(logs, s) {
			w.t.Errorf("a serve process logged %q, which belongs to a student", s)
		}
	}
}

// get fetches url with a short timeout and returns the status (0 when unreachable).
func get(url string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}
