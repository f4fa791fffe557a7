package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"

	"intake/bot"
)

const keysUsage = `Usage: intake keys generate [--next]
       intake keys rotate [--check]

generate         print a new pepper and sealing key as lines for an env file
generate --next  print a new sealing key for the keys configured now, and the
                 INTAKE_SEAL_KEYS line that adds it
rotate           seal everything stored in Redis again with the current sealing key
                 (the first in INTAKE_SEAL_KEYS), so the older ones can be removed
rotate --check   only count; exit 1 while anything still uses another key

Sealing keys are rotated with generate --next, rotate and rotate --check; README.md
("Run in production") has the steps. The pepper cannot be rotated: conversation keys are
derived from it, so a new pepper starts every conversation over (see SECURITY.md).`

func runKeys(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: intake keys generate [--next] | intake keys rotate [--check] (see `intake keys --help`)"}
	}
	switch args[0] {
	case "generate":
		return keysGenerate(args[1:], stdout, stderr)
	case "rotate":
		return keysRotate(args[1:], stdout, stderr)
	case "-h", "--help", "-help", "help":
		fmt.Fprintln(stderr, keysUsage)
		return errHelp
	}
	return usageError{fmt.Sprintf("keys: unknown subcommand %q; use generate or rotate (see `intake keys --help`)", args[0])}
}

func keysGenerate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keys generate", "keys generate [--next]\n\n"+
		"Prints a new pepper and sealing key as lines for an env file. With --next, prints a\n"+
		"new sealing key with the next id for the keys configured now (INTAKE_SEAL_KEYS or\n"+
		"INTAKE_SEAL_KEY, or their _FILE) and the line that adds it.", stderr)
	next := fs.Bool("next", false, "a new sealing key to add to the configured ones, for key rotation")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("keys generate takes no arguments, got %q", fs.Args())}
	}
	if *next {
		return generateNext(stdout)
	}
	fmt.Fprintln(stdout, "# intake secrets: keep them out of git, apart from Redis backups, and the same")
	fmt.Fprintln(stdout, "# across restarts and replicas. Losing INTAKE_SEAL_KEYS makes stored conversations and")
	fmt.Fprintln(stdout, "# cases unreadable; losing INTAKE_PEPPER makes every student start over.")
	fmt.Fprintf(stdout, "%s=%s\n", envPepper, base64.StdEncoding.EncodeToString(bot.RandomKey()))
	fmt.Fprintf(stdout, "%s=%s\n", envSealKeys, sealKeysValue([]sealKey{{1, bot.RandomKey()}}))
	return nil
}

// generateNext prints a new sealing key with the next free id and the INTAKE_SEAL_KEYS
// values of the rollout, the one uncommented line being the state to reach: the new key
// sealing, every old one still opening. Appended to an env file it is therefore safe:
// nothing that opens today stops opening.
func generateNext(stdout io.Writer) error {
	k, err := loadKeys(os.Getenv)
	if err != nil {
		return err
	}
	if len(k.sealKeys) == 0 {
		return fmt.Errorf("--next adds a key to the configured ones, but %s is not set here: run it with the environment serve runs with", envSealKeys)
	}
	id := nextKeyID(k.sealKeys)
	if id == 0 {
		return errors.New("all 255 key ids are in use: remove keys nothing uses any more (`intake keys rotate --check` tells)")
	}
	fresh := sealKey{id, bot.RandomKey()}
	learn := append(slices.Clone(k.sealKeys), fresh)
	seal := append([]sealKey{fresh}, k.sealKeys...)
	fmt.Fprintf(stdout, "# New sealing key %d. With several replicas, first restart each with the key added\n", id)
	fmt.Fprintf(stdout, "# but not yet sealing, so none meets a value it cannot open:\n")
	fmt.Fprintf(stdout, "#   %s=%s\n", envSealKeys, sealKeysValue(learn))
	fmt.Fprintf(stdout, "# Then (one replica: at once) restart each with key %d sealing:\n", id)
	fmt.Fprintf(stdout, "%s=%s\n", envSealKeys, sealKeysValue(seal))
	if k.sealFrom != envSealKeys {
		fmt.Fprintf(stdout, "# and remove %s: setting both is refused. A _FILE holds the part after '='.\n", k.sealFrom)
	}
	fmt.Fprintf(stdout, "# Then `intake keys rotate` and `intake keys rotate --check`; when the check passes,\n")
	fmt.Fprintf(stdout, "# keep only %d:... in %s and restart again.\n", id, envSealKeys)
	return nil
}

// nextKeyID returns the id after the highest in use, or the lowest free one after 255;
// 0 when all are taken.
func nextKeyID(keys []sealKey) byte {
	highest := byte(0)
	used := map[byte]bool{}
	for _, k := range keys {
		used[k.id] = true
		highest = max(highest, k.id)
	}
	if highest < 255 {
		return highest + 1
	}
	for id := 1; id <= 255; id++ {
		if !used[byte(id)] {
			return byte(id)
		}
	}
	return 0
}

func keysRotate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keys rotate", "keys rotate [--check]\n\n"+
		"Seals every session, case story, return address, thread message and outbox message in\n"+
		"Redis again with the current sealing key (the first in INTAKE_SEAL_KEYS), so the older\n"+
		"keys can be removed. Safe while serve runs on other replicas, and safe to run again,\n"+
		"also after an interruption. It prints how many values of each kind it sealed again and\n"+
		"how many use each key id. Exit 1 while anything still uses another key than the current\n"+
		"one (being delivered right now, or not opening with the keys configured here).\n\n"+
		"The pepper cannot be rotated: conversation keys are derived from it (see SECURITY.md).", stderr)
	check := fs.Bool("check", false, "only count the values per key id; change nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("keys rotate takes no arguments, got %q", fs.Args())}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	// The pepper plays no part: only the sealing keys are needed.
	ring, err := cfg.keyring()
	if err != nil {
		return err
	}
	if cfg.redisURL == "" {
		return errors.New("REDIS_URL is not set: rotation works on the service's Redis")
	}
	store, _, closeStore, err := openStore(cfg, false, stdout)
	if err != nil {
		return err
	}
	defer closeStore()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return rotate(ctx, store, ring, *check, stdout)
}

// sealedLabels names each kind in rotate's table.
var sealedLabels = map[bot.SealedKind]string{
	bot.SealedSession: "sessions",
	bot.SealedStory:   "case stories",
	bot.SealedAddress: "return addresses",
	bot.SealedEntry:   "thread messages",
	bot.SealedOutbox:  "outbox messages",
	bot.SealedClock:   "case times",
}

// rotate runs (or with check, counts) a key rotation on store and prints what it found;
// errInvalid (exit 1) while anything still uses another key than the current one.
func rotate(ctx context.Context, store bot.SealedStore, ring *bot.Keyring, check bool, out io.Writer) error {
	r, err := bot.Rotate(ctx, store, ring, check)
	printRotation(out, r, check)
	if err != nil {
		return err
	}
	old := r.Old()
	if old == 0 {
		fmt.Fprintf(out, "everything uses key %d", r.Current)
		if others := otherKeys(ring, r); others != "" {
			fmt.Fprintf(out, "; once every replica seals with key %d, %s can leave %s", r.Current, others, envSealKeys)
		}
		fmt.Fprintln(out)
		return nil
	}
	var busy, unreadable int
	for _, c := range r.Kinds {
		busy += c.Busy
		unreadable += c.Unreadable
	}
	fmt.Fprintf(out, "%d %s another key than %d", old, plural(old, "value still uses", "values still use"), r.Current)
	switch {
	case check:
		fmt.Fprintln(out, ": run `intake keys rotate`")
	default:
		var why []string
		if busy > 0 {
			why = append(why, fmt.Sprintf("%d changing or being delivered right now: run it again in a minute", busy))
		}
		if unreadable > 0 {
			why = append(why, fmt.Sprintf("%d do not open with the keys configured here: is an old key missing from %s?", unreadable, envSealKeys))
		}
		if len(why) == 0 {
			// Sealed again by a replica that still seals with an older key.
			why = append(why, "does every replica seal with key "+fmt.Sprint(r.Current)+"?")
		}
		fmt.Fprintf(out, " (%s)\n", strings.Join(why, "; "))
	}
	return errInvalid
}

// otherKeys lists the configured keys besides the current one that nothing uses.
func otherKeys(ring *bot.Keyring, r bot.Rotation) string {
	var ids []string
	for _, id := range ring.IDs() {
		if id != r.Current {
			ids = append(ids, fmt.Sprintf("key %d", id))
		}
	}
	return strings.Join(ids, ", ")
}

func printRotation(out io.Writer, r bot.Rotation, check bool) {
	row := func(label, values, resealed, keys string) {
		line := fmt.Sprintf("%-18s %8s", label, values)
		if !check {
			line += fmt.Sprintf("  %12s", resealed)
		}
		fmt.Fprintln(out, strings.TrimRight(line+"  "+keys, " "))
	}
	row("", "values", "sealed again", "by key id")
	total, resealed := 0, 0
	for _, kind := range bot.SealedKinds {
		c := r.Kinds[kind]
		n := 0
		for _, v := range c.ByKey {
			n += v
		}
		total += n
		resealed += c.Resealed
		label := sealedLabels[kind]
		if label == "" {
			label = string(kind)
		}
		row(label, fmt.Sprint(n), fmt.Sprint(c.Resealed), byKey(c.ByKey))
	}
	row("all", fmt.Sprint(total), fmt.Sprint(resealed), byKey(r.ByKey()))
}

// byKey renders counts per key id, highest id first: "2:120 1:3".
func byKey(m map[byte]int) string {
	ids := make([]byte, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("%d:%d", id, m[id])
	}
	return strings.Join(parts, " ")
}
