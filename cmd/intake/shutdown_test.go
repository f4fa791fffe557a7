package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"intake/bot/bottest"
	"intake/bot/telegram/telegramtest"
	"intake/storage/redis/redistest"
)

const shutdownTestToken = "123456789:AAShutdownTestToken_abcdefghijklmnop"

// TestPartsWaitNamesWhatIsCutOff: a stop that runs out of time names what still runs.
func TestPartsWaitNamesWhatIsCutOff(t *testing.T) {
	var p parts
	release := make(chan struct{})
	defer close(release)
	p.Go("quick", func() {})
	p.Go("telegram (poll)", func() { <-release })
	p.Go("http requests", func() { <-release })
	if cut := p.Wait(50 * time.Millisecond); strings.Join(cut, ", ") != "http requests, telegram (poll)" {
		t.Errorf("cut off %q, want the two parts still running", cut)
	}
	var done parts
	done.Go("quick", func() {})
	if cut := done.Wait(10 * time.Second); cut != nil {
		t.Errorf("a clean stop reports %q cut off", cut)
	}
	// A part that ends in time but had to cut its own work short counts too.
	var short parts
	short.Go("admin address", func() { short.cutOff("admin address") })
	if cut := short.Wait(10 * time.Second); strings.Join(cut, ", ") != "admin address" {
		t.Errorf("cut off %q, want the part that cut its work short", cut)
	}
}

// intakeProcess is `intake serve` running as a subprocess, as in production.
type intakeProcess struct {
	cmd            *exec.Cmd
	stdout, stderr *bottest.Screen
	exited         chan error
	http, admin    string // bound addresses
}

// buildIntake compiles the intake command into a temporary folder.
func buildIntake(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "intake")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// secretsEnv is a fresh set of keys, as `intake keys generate` writes them.
func secretsEnv(t *testing.T) []string {
	t.Helper()
	code, out, errOut := call(t, "keys", "generate")
	if code != exitOK {
		t.Fatalf("keys generate: %s", errOut)
	}
	return regexp.MustCompile(`(?m)^[A-Z_]+=\S+$`).FindAllString(out, -1)
}

// startIntake runs `intake serve` with env only (nothing of this test's own environment)
// and waits until it says where it listens.
func startIntake(t *testing.T, bin string, env []string) *intakeProcess {
	t.Helper()
	p := &intakeProcess{cmd: exec.Command(bin, "serve"), stdout: &bottest.Screen{}, stderr: &bottest.Screen{}, exited: make(chan error, 1)}
	p.cmd.Env = append([]string{"INTAKE_HTTP_ADDR=127.0.0.1:0", "INTAKE_ADMIN_ADDR=127.0.0.1:0", "INTAKE_SECURE_COOKIES=0"}, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("intake stdout:\n%s\nintake stderr:\n%s", p.stdout.String(), p.stderr.String())
		}
	})
	chat := regexp.MustCompile(`chat: +http://(\S+)/`)
	admin := regexp.MustCompile(`admin: +http://(\S+)/metrics`)
	waitUntil(t, "intake to listen", func() bool {
		m, a := chat.FindStringSubmatch(p.stdout.String()), admin.FindStringSubmatch(p.stdout.String())
		if m == nil || a == nil {
			return false
		}
		p.http, p.admin = m[1], a[1]
		return true
	})
	return p
}

func (p *intakeProcess) signal(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "intake to start stopping", func() bool { return strings.Contains(p.stderr.String(), "stopping: no new updates") })
}

// wait returns the exit code once the process ended.
func (p *intakeProcess) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-p.exited:
		p.exited <- err // for the cleanup
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		t.Fatal("intake did not exit")
		return -1
	}
}

// heldRequest starts a web-chat turn whose form body is not sent yet: it returns once the
// handler runs and waits for the body (the server asked for it with 100 Continue).
func heldRequest(t *testing.T, addr, text string) (send func() *http.Response) {
	t.Helper()
	page, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	var cookie string
	for _, c := range page.Cookies() {
		if c.Name == "chat" {
			cookie = c.Value
		}
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(html)
	if cookie == "" || csrf == nil {
		t.Fatalf("no conversation cookie or form token on the chat page (status %d)", page.StatusCode)
	}
	body := "csrf=" + url.QueryEscape(string(csrf[1])) + "&text=" + url.QueryEscape(text)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /chat/say HTTP/1.1\r\nHost: %s\r\nCookie: chat=%s\r\nAccept: application/json\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
		addr, cookie, len(body))
	br := bufio.NewReader(conn)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("the server did not ask for the body: %q %v", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil { // the blank line after 100 Continue
		t.Fatal(err)
	}
	return func() *http.Response {
		t.Helper()
		if _, err := io.WriteString(conn, body); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("no answer to the request in flight: %v", err)
		}
		return resp
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGracefulShutdown runs the built intake as production does, with Telegram in poll
// mode against a fake Bot API. SIGTERM while a student's web-chat message is on its way:
// the student still gets the answer, the Telegram poll lease is given up (its key is gone
// from Redis, so another replica takes over at once), and the process exits 0. With a
// grace too short for a request that never finishes, it exits 1 and logs what it cut off.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the intake binary")
	}
	bin := buildIntake(t)
	client, prefix := redistest.Client(t)
	env := append(secretsEnv(t), "REDIS_URL="+redistest.Addr(t, client), "INTAKE_REDIS_PREFIX="+prefix)

	t.Run("in flight finishes, lease released", func(t *testing.T) {
		api := telegramtest.NewServer(shutdownTestToken)
		t.Cleanup(api.Close)
		p := startIntake(t, bin, append(env, "INTAKE_SHUTDOWN_GRACE=20s", "INTAKE_REPLICA=replica-shutdown",
			"INTAKE_TELEGRAM_TOKEN="+shutdownTestToken, "INTAKE_TELEGRAM_SERVER_URL="+api.URL()))
		waitUntil(t, "/readyz to answer 200 (Redis, flows, Telegram polling)", func() bool {
			resp, err := http.Get("http://" + p.admin + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		lease := prefix + "lease:telegram-poll"
		if holder, err := client.Get(context.Background(), lease).Result(); err != nil || holder != "replica-shutdown" {
			t.Fatalf("lease %s held by %q (%v), want this replica", lease, holder, err)
		}

		send := heldRequest(t, p.http, "/urgent")
		p.signal(t)
		resp := send()
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), "112") {
			t.Errorf("the message in flight got %d, want 200 with the emergency numbers:\n%s", resp.StatusCode, answer)
		}
		if code := p.wait(t); code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
		if n, err := client.Exists(context.Background(), lease).Result(); err != nil || n != 0 {
			t.Errorf("the poll lease is still in Redis after a clean stop (%d, %v)", n, err)
		}
		if !strings.Contains(p.stderr.String(), "stopped cleanly") {
			t.Errorf("the log does not say the stop was clean:\n%s", p.stderr.String())
		}
	})

	t.Run("grace runs out", func(t *testing.T) {
		p := startIntake(t, bin, append(env, "INTAKE_SHUTDOWN_GRACE=1s", "INTAKE_REPLICA=replica-cut"))
		heldRequest(t, p.http, "this body never comes") // never sent
		p.signal(t)
		if code := p.wait(t); code != exitInvalid {
			t.Errorf("exit code %d, want %d when the grace ran out", code, exitInvalid)
		}
		if log := p.stderr.String(); !strings.Contains(log, "cut off") || !strings.Contains(log, "http requests") {
			t.Errorf("the log does not say what was cut off:\n%s", log)
		}
	})
}
