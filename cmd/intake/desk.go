package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"intake/bot"
)

func runDesk(args []string, stdout, stderr io.Writer) error {
	return desk(args, os.Stdin, stdout, stderr)
}

const deskUsage = `Usage: intake desk user add NAME [--role counsellor|support|admin]
       intake desk user remove NAME
       intake desk user list
       intake desk audit [--last N]

Manages the accounts of the counsellor desk in the Redis at REDIS_URL. add asks for the
password (at least 12 characters); pipe it in to script it: echo "$PW" | intake desk user add anna
audit prints the newest entries of the desk audit log, oldest first: day, account, case, action.`

// desk is runDesk with its input given, for tests.
func desk(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
		fmt.Fprintln(stderr, deskUsage)
		return errHelp
	}
	if len(args) > 0 && args[0] == "audit" {
		return deskAudit(args[1:], stdout, stderr)
	}
	if len(args) < 2 || args[0] != "user" {
		return usageError{"usage: intake desk user add|remove|list, or intake desk audit (see `intake desk --help`)"}
	}
	verb, rest := args[1], args[2:]
	fs := newFlags("desk user "+verb, "desk user "+verb+" NAME", stderr)
	role := bot.RoleCounsellor
	if verb == "add" {
		fs.StringVar(&role, "role", bot.RoleCounsellor, "counsellor, support or admin")
	}
	// Flags may follow the name: "add anna --role support".
	var names []string
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		names, rest = append(names, rest[0]), rest[1:]
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	names = append(names, fs.Args()...)

	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.redisURL == "" {
		return errors.New("REDIS_URL is not set: accounts live in the service's Redis (for `intake dev`, use the REDIS_URL it prints)")
	}
	store, _, closeStore, err := openStore(cfg, false, stdout)
	if err != nil {
		return err
	}
	defer closeStore()
	d := bot.NewDesk(bot.DeskConfig{Accounts: store})
	ctx := context.Background()
	switch verb {
	case "add":
		if len(names) != 1 {
			return usageError{"usage: intake desk user add NAME [--role counsellor|support|admin]"}
		}
		password, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		if err := d.AddAccount(ctx, names[0], role, password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s (%s) saved\n", strings.ToLower(names[0]), role)
	case "remove":
		if len(names) != 1 {
			return usageError{"usage: intake desk user remove NAME"}
		}
		if err := d.RemoveAccount(ctx, names[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %s removed\n", strings.ToLower(names[0]))
	case "list":
		list, err := d.Accounts(ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(stdout, "no accounts yet; add one with `intake desk user add NAME`")
		}
		for _, a := range list {
			fmt.Fprintf(stdout, "%-32s %s\n", a.Name, a.Role)
		}
	default:
		return usageError{fmt.Sprintf("unknown desk user command %q: use add, remove or list", verb)}
	}
	return nil
}

// readPassword asks for a password without echo on a terminal, or reads one line of piped
// input.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password (at least 12 characters): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// deskAudit prints the newest entries of the desk audit log.
func deskAudit(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("desk audit", "desk audit [--last N]", stderr)
	last := fs.Int("last", 50, "how many of the newest entries to print (0: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *last < 0 {
		return usageError{"usage: intake desk audit [--last N] (see `intake desk audit --help`)"}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.redisURL == "" {
		return errors.New("REDIS_URL is not set: the audit log lives in the service's Redis (for `intake dev`, use the REDIS_URL it prints)")
	}
	store, _, closeStore, err := openStore(cfg, false, stdout)
	if err != nil {
		return err
	}
	defer closeStore()
	entries, err := store.AuditEntries(context.Background(), *last)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		fmt.Fprintln(stdout, "the audit log is empty")
	}
	for _, e := range entries {
		fmt.Fprintf(stdout, "%s  %-32s %s  %s\n", e.Day, e.Account, e.Case, e.Action)
	}
	return nil
}
