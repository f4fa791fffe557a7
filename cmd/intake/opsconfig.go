package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// Operations settings and their defaults.
const (
	// defaultAdminAddr serves /metrics, /healthz and /readyz on loopback only: the metrics
	// are for the operator's Prometheus, not for the internet.
	defaultAdminAddr = "127.0.0.1:9090"
	// defaultShutdownGrace is how long a stop may take: long enough for a turn and its
	// replies (the Telegram channel drains for up to 10 s), short enough for a deploy.
	defaultShutdownGrace = 20 * time.Second
)

// loadOps reads the operations settings: INTAKE_REDIS_PREFIX, INTAKE_ADMIN_ADDR ("off"
// turns the admin address off), INTAKE_SHUTDOWN_GRACE and INTAKE_LOG_LEVEL.
func (c *config) loadOps() error {
	if v := os.Getenv("INTAKE_REDIS_PREFIX"); v != "" {
		// A brace pair would become the Redis Cluster hash tag of every key.
		if strings.ContainsAny(v, "{}") {
			return fmt.Errorf("INTAKE_REDIS_PREFIX=%q must not hold { or }", v)
		}
		c.redisPrefix = v
	}
	c.adminAddr = envOr("INTAKE_ADMIN_ADDR", defaultAdminAddr)
	// When the default address is taken (another copy on this machine) the service runs
	// without metrics rather than not at all; an address the operator chose must work.
	c.adminDefault = os.Getenv("INTAKE_ADMIN_ADDR") == ""
	if strings.EqualFold(c.adminAddr, "off") {
		c.adminAddr = ""
	}
	c.shutdownGrace = defaultShutdownGrace
	if v := os.Getenv("INTAKE_SHUTDOWN_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > 10*time.Minute {
			return fmt.Errorf("INTAKE_SHUTDOWN_GRACE=%q is not a duration between 1s and 10m (e.g. 20s)", v)
		}
		c.shutdownGrace = d
	}
	c.logLevel = slog.LevelInfo
	if v := os.Getenv("INTAKE_LOG_LEVEL"); v != "" {
		if err := c.logLevel.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("INTAKE_LOG_LEVEL=%q is not one of debug, info, warn, error", v)
		}
	}
	return nil
}
