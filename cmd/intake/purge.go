package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"intake/storage/redis"
)

// purgeInterval is how often serve and dev purge the content of cases past retention.
const purgeInterval = time.Hour

func runPurge(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("purge", "purge [--older-than 90d]\n\n"+
		"Erases the story, return address and thread of every case closed longer ago than the\n"+
		"retention time, and the sealed story of registrations made longer ago; the cases keep\n"+
		"their coded fields and the anonymous registry is not touched. serve and dev do the same\n"+
		"every hour. Default: INTAKE_RETENTION, else 90d.", stderr)
	var olderThan time.Duration
	fs.Func("older-than", "purge what closed longer ago than this: days (90d) or a duration (2160h)", func(v string) error {
		d, err := parseRetention(v)
		olderThan = d
		return err
	})
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("purge takes no arguments, got %q (see `intake purge --help`)", fs.Args())}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if olderThan == 0 {
		olderThan = cfg.retention
	}
	if cfg.redisURL == "" {
		return errors.New("REDIS_URL is not set: cases live in the service's Redis (for `intake dev`, use the REDIS_URL it prints)")
	}
	store, _, closeStore, err := openStore(cfg, false, stdout)
	if err != nil {
		return err
	}
	defer closeStore()
	n, err := purge(context.Background(), store, time.Now(), olderThan)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "purged the content of %d %s closed or registered more than %s ago\n", n, plural(n, "case", "cases"), days(olderThan))
	return nil
}

// purge erases the content of every case past retention at now.
func purge(ctx context.Context, store *redis.Store, now time.Time, retention time.Duration) (int, error) {
	return store.PurgeBefore(ctx, now.Add(-retention), 0)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// days shows a retention time in days when it is whole days.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
