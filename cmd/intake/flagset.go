package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// errHelp means --help was asked for and printed.
var errHelp = errors.New("help shown")

// newFlags returns a flag set whose errors become usage errors and whose help goes to out.
func newFlags(name, usage string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: intake %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and maps flag errors to the command's exit codes.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError{fmt.Sprintf("%v (see `intake %s --help`)", err, fs.Name())}
	}
	return nil
}

// discardLogger drops every record, for commands whose output is their report.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
