package redis_test

import (
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr     string
		wantAddr string // "" when Open must fail
	}{
		{"127.0.0.1:6379", "127.0.0.1:6379"},
		{"redis.internal:6380", "redis.internal:6380"},
		{"redis://localhost:6379/0", "localhost:6379"},
		{"redis://:s3cret@redis.internal:6379/2", "redis.internal:6379"},
		{"localhost", ""},
		{"http://localhost:6379", ""},
		{"redis://user:s3cret@bad host:6379", ""},
	}
	for _, tt := range tests {
		c, err := redis.Open(tt.addr)
		if tt.wantAddr == "" {
			if err == nil {
				_ = c.Close()
				t.Errorf("Open(%s): want an error", tt.addr)
			} else if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Open error shows the password: %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%s): %v", tt.addr, err)
			continue
		}
		if got := c.(*goredis.Client).Options().Addr; got != tt.wantAddr {
			t.Errorf("Open(%s): addr %s, want %s", tt.addr, got, tt.wantAddr)
		}
		_ = c.Close()
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
}
