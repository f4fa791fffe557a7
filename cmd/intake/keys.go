package main

import (
	"encoding/base64"
	"fmt"
	"io"

	"intake/bot"
)

func runKeys(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "generate" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stderr, "Usage: intake keys generate\n\nPrints a new pepper and sealing key as lines for an env file.")
			return errHelp
		}
		return usageError{"usage: intake keys generate"}
	}
	fs := newFlags("keys generate", "keys generate", stderr)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "# intake secrets: keep them out of git and the same across restarts.")
	fmt.Fprintln(stdout, "# Losing INTAKE_SEAL_KEY makes stored conversations unreadable; losing INTAKE_PEPPER")
	fmt.Fprintln(stdout, "# makes returning students start over.")
	fmt.Fprintf(stdout, "INTAKE_PEPPER=%s\n", base64.StdEncoding.EncodeToString(bot.RandomKey()))
	fmt.Fprintf(stdout, "INTAKE_SEAL_KEY=%s\n", base64.StdEncoding.EncodeToString(bot.RandomKey()))
	return nil
}
