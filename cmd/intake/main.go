// Command intake runs the anonymous intake chatbot of the student social-safety team, and
// the tools around it: the terminal chat, the flow-script checks and the benchmark.
//
// Every subcommand has --help. Exit codes: 0 ok, 1 invalid input (a broken script, a
// failed check), 2 usage (unknown command or flag).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitInvalid = 1
	exitUsage   = 2
)

// usageError marks a mistake in how the command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// invalidError marks input that was read but is not acceptable (exit 1); its message has
// already been printed in full.
var errInvalid = errors.New("invalid input")

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"dev", "run the whole service on this machine, with throwaway keys and an in-memory Redis unless REDIS_URL is set", runDev},
		{"serve", "run the service for production (needs REDIS_URL, INTAKE_PEPPER, INTAKE_SEAL_KEYS)", runServe},
		{"chat", "talk to the bot in this terminal, or pipe a conversation in", runChat},
		{"flows", "check, draw and test the flow scripts: flows validate|graph|test", runFlows},
		{"desk", "manage counsellor desk accounts and read the audit log: desk user add|remove|list, desk audit", runDesk},
		{"keys", "make and rotate the secret keys: keys generate [--next], keys rotate [--check]", runKeys},
		{"bench", "drive simulated students through the default flow and print the figures", runBench},
		{"report", "write the annual statistics (section 2) from the registry: report --year 2025", runReport},
		{"registry", "import an earlier year's hand count: registry import FILE.csv", runRegistry},
		{"purge", "erase the content of cases closed longer ago than the retention time: purge [--older-than 90d]", runPurge},
		{"health", "ask a running service whether it is ready (exit 0) or not (exit 1), for container health checks", runHealth},
		{"help", "show this help", nil},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		printHelp(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] && c.run != nil {
			return exitCode(c.run(args[1:], stdout, stderr), stderr)
		}
	}
	fmt.Fprintf(stderr, "intake: unknown command %q; run `intake help` to see the commands\n", args[0])
	return exitUsage
}

func exitCode(err error, stderr io.Writer) int {
	var u usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &u):
		fmt.Fprintf(stderr, "intake: %s\n", u.msg)
		return exitUsage
	case errors.Is(err, errInvalid):
		return exitInvalid
	default:
		fmt.Fprintf(stderr, "intake: %v\n", err)
		return exitInvalid
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "intake — anonymous reporting chatbot for the student social-safety team")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: intake <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `intake <command> --help` for the flags of a command.")
	fmt.Fprintln(w, "Environment: REDIS_URL, INTAKE_PEPPER, INTAKE_SEAL_KEYS (or _FILE), INTAKE_FLOWS_DIR, INTAKE_LOCALES_DIR,")
	fmt.Fprintln(w, "INTAKE_HTTP_ADDR, INTAKE_ADMIN_ADDR, INTAKE_SHUTDOWN_GRACE, INTAKE_SESSION_TTL, INTAKE_RETENTION, ...")
	fmt.Fprintln(w, "(every one is listed in .env.example and README.md).")
}
