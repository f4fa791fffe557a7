package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// healthTimeout bounds one health check: a container health check must not hang.
const healthTimeout = 5 * time.Second

// runHealth asks a running service whether it is ready, for container health checks (the
// image has no curl): exit 0 when /readyz answers 200, 1 otherwise.
func runHealth(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("health", "health [--url URL]", stderr)
	url := fs.String("url", "", "what to ask (default: /readyz on INTAKE_ADMIN_ADDR, or on INTAKE_HTTP_ADDR when the admin address is off)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"health takes no arguments (see `intake health --help`)"}
	}
	if *url == "" {
		*url = defaultHealthURL()
	}
	client := &http.Client{Timeout: healthTimeout}
	resp, err := client.Get(*url)
	if err != nil {
		return fmt.Errorf("health: %s does not answer: %w", *url, err)
	}
	defer resp.Body.Close()
	// The answer is one short line ("ready", or "not ready: redis, telegram").
	line, _ := bufio.NewReader(io.LimitReader(resp.Body, 512)).ReadString('\n')
	line = strings.TrimSpace(line)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %d: %s", *url, resp.StatusCode, line)
	}
	fmt.Fprintln(stdout, line)
	return nil
}

// defaultHealthURL is /readyz on the admin address, or on the HTTP address when the admin
// address is off; a listener on every interface is asked on loopback.
func defaultHealthURL() string {
	addr := envOr("INTAKE_ADMIN_ADDR", defaultAdminAddr)
	if strings.EqualFold(addr, "off") {
		addr = envOr("INTAKE_HTTP_ADDR", "127.0.0.1:8080")
	}
	host, port, err := net.SplitHostPort(addr)
	if err == nil && (host == "" || host == "0.0.0.0" || host == "::") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	return "http://" + addr + "/readyz"
}
