package redis_test

import (
	"slices"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		want    []string // the addresses the client uses; none when Open must fail
		cluster bool
	}{
		{"127.0.0.1:6379", []string{"127.0.0.1:6379"}, false},
		{"redis.internal:6380", []string{"redis.internal:6380"}, false},
		{"redis://localhost:6379/0", []string{"localhost:6379"}, false},
		{"redis://:s3cret@redis.internal:6379/2", []string{"redis.internal:6379"}, false},
		{"redis+cluster://10.0.0.1:7000", []string{"10.0.0.1:7000"}, true},
		{"redis+cluster://:s3cret@10.0.0.1:7000/0?addr=10.0.0.2:7000&addr=10.0.0.3:7000",
			[]string{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"}, true},
		{"rediss+cluster://user:s3cret@redis.internal:6380/", []string{"redis.internal:6380"}, true},
		{"REDIS+CLUSTER://10.0.0.1:7000", []string{"10.0.0.1:7000"}, true},
		{"localhost", nil, false},
		{"http://localhost:6379", nil, false},
		{"http+cluster://localhost:6379", nil, false},
		{"redis://user:s3cret@bad host:6379", nil, false},
		{"redis+cluster://:s3cret@10.0.0.1:7000/2", nil, false},
		{"redis+cluster://:s3cret@10.0.0.1:7000?addr=10.0.0.2", nil, false},
		{"redis+cluster://:s3cret@10.0.0.1:7000?db=2", nil, false},
		{"unix+cluster:///run/redis.sock", nil, false},
	}
	for _, tt := range tests {
		c, err := redis.Open(tt.addr)
		if tt.want == nil {
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
		var got []string
		switch c := c.(type) {
		case *goredis.Client:
			got = []string{c.Options().Addr}
		case *goredis.ClusterClient:
			got = c.Options().Addrs
		}
		if _, isCluster := c.(*goredis.ClusterClient); isCluster != tt.cluster || !slices.Equal(got, tt.want) {
			t.Errorf("Open(%s): %T on %v, want cluster %v on %v", tt.addr, c, got, tt.cluster, tt.want)
		}
		_ = c.Close()
	}
}

// TestOpenNeverShowsThePassword: whatever is wrong with a URL, the error does not repeat
// its password, which would end up in a log.
func TestOpenNeverShowsThePassword(t *testing.T) {
	t.Parallel()
	passwords := []string{"s3cret-pw", "12/ss-word", "pa/ss-word", "pa?ss-word", "pa#ss-word", "pa@ss-word", "pa%ss-word", "pa%zzword", "pa:ss-word", "pa ss-word", "pässwörd-1", "pa%2Fss-word", "pa%41ss-word"}
	shapes := []string{
		"redis://:%s@host:6379/x", "redis://:%s@bad host:6379", "redis://u:%s@host:port",
		"http://:%s@host:6379", "redis://:%s@host:6379?frobnicate=1", "redis://:%s@host:6379/0?db=x",
		"redis+cluster://:%s@host:6379/3", "redis+cluster://u:%s@host:6379?addr=%s",
		"rediss+cluster://:%s@host:6379?addr=h2:1&read_timeout=x", "redis+cluster://:%s@[::1:6379",
	}
	for _, pw := range passwords {
		for _, shape := range shapes {
			raw := strings.ReplaceAll(shape, "%s", pw)
			if c, err := redis.Open(raw); err == nil {
				_ = c.Close()
			} else if strings.Contains(err.Error(), pw) {
				t.Errorf("Open(%q) error shows the password: %v", raw, err)
			}
		}
	}
}

// FuzzOpen: Open never panics, and its error never repeats the password of a URL: at least
// eight characters, a digit among them (Open's own wording has no such run), and found
// nowhere else in the URL.
func FuzzOpen(f *testing.F) {
	f.Add("redis", "", "s3cret-pw", "host:6379/x")
	f.Add("redis+cluster", "u", "pa/ss-w0rd", "h:1?addr=h2:2")
	f.Add("rediss+cluster", "", "pa@ss?w0rd", "h:1/2")
	f.Add("redis", "user", "pa%41ss-w0rd", "h:port")
	f.Fuzz(func(t *testing.T, scheme, user, pw, tail string) {
		raw := scheme + "://" + user + ":" + pw + "@" + tail
		c, err := redis.Open(raw)
		if err == nil {
			_ = c.Close()
			return
		}
		others := strings.ToLower(scheme + user + tail)
		if strings.ContainsAny(scheme+user, "/?#@") || len(pw) < 8 || !strings.ContainsAny(pw, "0123456789") ||
			strings.Contains(others, strings.ToLower(pw)) {
			return // pw is not (only) the password
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("Open(%q) error shows the password: %v", raw, err)
		}
	})
}

func TestPing(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
}
