package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"intake/storage/redis/redistest"
)

// TestBenchReportsAndCleansUp runs the whole bench at tiny sizes: it prints every section
// with its ratios, and afterwards no key of the bench is left in Redis while a key of
// someone else's is still there (the bench may run against a production Redis).
func TestBenchReportsAndCleansUp(t *testing.T) {
	ctx := context.Background()
	real := os.Getenv(redistest.EnvVar) != ""
	t.Setenv("REDIS_URL", "")
	var bystander func() bool
	if real {
		c, prefix := redistest.Client(t)
		t.Setenv("REDIS_URL", redistest.Addr(t, c))
		if err := c.Set(ctx, prefix+"bystander", "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
		bystander = func() bool { return c.Exists(ctx, prefix+"bystander").Val() == 1 }
	}

	code, out, errOut := call(t, "bench", "--conversations", "1,3", "--turns", "24", "--sessions", "200", "--cases", "8")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, out, errOut)
	}
	wants := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\s+3\s+walk\s+\d+ .* \d+\.\d\d\s*$`), // a ratio at each level
		regexp.MustCompile(`(?m)^\s+3\s+browse\s+\d+ .* \d+\.\d\d\s*$`),
		regexp.MustCompile(`(?m)^\s+3\s+floor\s+\d+ `),
		regexp.MustCompile(`service/echo`),
		regexp.MustCompile(`(?m)^\s+3\s+\d+ .* \d+\.\d\d\s*$`), // telegram's row with its ratio
		regexp.MustCompile(`cleanup: deleted the bench's \d+ keys`),
	}
	if real {
		wants = append(wants,
			regexp.MustCompile(`case in all\s+\d+ bytes`),
			regexp.MustCompile(`MEMORY USAGE of the session keys:\s+\d+ bytes per session \(200 keys\)`),
			regexp.MustCompile(`(?m)^\s+200 stored\s+\d+\.\d MiB`))
	} else {
		wants = append(wants, regexp.MustCompile(`memory: skipped`))
	}
	for _, re := range wants {
		if !re.MatchString(out) {
			t.Errorf("bench output lacks %s:\n%s", re, out)
		}
	}
	if !real {
		return
	}
	m := regexp.MustCompile(`prefix (intakebench:[0-9a-f]+:)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the output does not name the bench's key prefix:\n%s", out)
	}
	c, _ := redistest.Client(t)
	var left []string
	iter := c.Scan(ctx, 0, m[1]+"*", 1000).Iterator()
	for iter.Next(ctx) {
		left = append(left, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("%d bench keys left in Redis, e.g. %s", len(left), strings.TrimPrefix(left[0], m[1]))
	}
	if !bystander() {
		t.Error("the bench deleted a key that was not its own")
	}
}
