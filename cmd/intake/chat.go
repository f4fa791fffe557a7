package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"

	"intake/bot"
	"intake/bot/console"
)

func runChat(args []string, stdout, stderr io.Writer) error {
	return chat(args, os.Stdin, stdout, stderr)
}

// chat is runChat with its input given, for tests.
func chat(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("chat", "chat [--lang nl|en|de] [--flows DIR] [--locales DIR] [--as NAME]", stderr)
	lang := fs.String("lang", "", "language to start in (default: none, so the bot asks, as it asks a student whose app tells no language)")
	flowsDir := fs.String("flows", "", "folder of flow scripts (default ./flows when present, else embedded)")
	localesDir := fs.String("locales", "", "folder of locale files (default ./locales when present, else embedded)")
	as := fs.String("as", "", "a name for this conversation, to come back to it later with the same name (default: a new conversation)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("chat takes no arguments, got %q (pipe a conversation on standard input instead)", fs.Arg(0))}
	}
	switch *lang {
	case "", "nl", "en", "de":
	default:
		return usageError{fmt.Sprintf("--lang %q: choose nl, en or de", *lang)}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cfg.redisURL != "" && cfg.requireKeys() != nil {
		return fmt.Errorf("to join a running intake, set INTAKE_PEPPER and INTAKE_SEAL_KEYS to its keys (`intake dev` prints the line)")
	}
	cfg.throwaway()
	store, _, closeStore, err := openStore(cfg, true, stdout)
	if err != nil {
		return err
	}
	defer closeStore()
	// Warnings go to stderr so a piped transcript on stdout stays clean.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := newService(cfg, store, defaultSource(*flowsDir, *localesDir), log)
	if err != nil {
		return err
	}
	name := *as
	if name == "" {
		b := bot.RandomKey()
		name = hex.EncodeToString(b[:8])
	}
	key := svc.names.Key(console.Name, name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := console.New(svc.engine, key, *lang, stdout, !isTerminal(stdin))
	c.Errors = func(err error) { log.Error("turn failed", "err", err) }
	return c.Run(ctx, stdin)
}

// isTerminal reports whether r is an interactive terminal; piped input is echoed so the
// printed conversation reads like a transcript.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
