package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"intake/flows"
)

func runFlows(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: intake flows validate|graph|test (see `intake flows --help`)"}
	}
	switch args[0] {
	case "validate":
		return flowsValidate(args[1:], stdout, stderr)
	case "graph":
		return flowsGraph(args[1:], stdout, stderr)
	case "test":
		return flowsTest(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stderr, "Usage: intake flows <command>")
		fmt.Fprintln(stderr, "")
		fmt.Fprintln(stderr, "  validate [DIR]                  check every script in DIR (default ./flows) against the locales")
		fmt.Fprintln(stderr, "  graph [--format mermaid|dot] ID draw a flow")
		fmt.Fprintln(stderr, "  test [DIR]                      run the transcript tests (*.test.yaml) beside the scripts")
		fmt.Fprintln(stderr, "")
		fmt.Fprintln(stderr, "The locales are read from --locales DIR, else DIR/../locales, else ./locales, else the embedded copy.")
		return errHelp
	}
	return usageError{fmt.Sprintf("unknown flows command %q: use validate, graph or test", args[0])}
}

// sourceArgs parses [DIR] and --locales shared by validate, graph and test.
func sourceArgs(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (contentSource, []string, error) {
	usage := "flows " + name + " [--locales DIR] [DIR]"
	if name == "graph" {
		usage = "flows graph [--format mermaid|dot] ID   (reads ./flows when present, else the embedded scripts)"
	}
	fs := newFlags("flows "+name, usage, stderr)
	localesDir := fs.String("locales", "", "folder of locale files")
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return contentSource{}, nil, err
	}
	rest := fs.Args()
	dir := ""
	if name != "graph" && len(rest) > 0 {
		dir, rest = rest[0], rest[1:]
		if !isDir(dir) {
			return contentSource{}, nil, usageError{fmt.Sprintf("%q is not a folder of flow scripts", dir)}
		}
	}
	src := defaultSource(dir, *localesDir)
	if dir != "" && *localesDir == "" && !isDir(filepath.Join(dir, "..", "locales")) {
		src.localesDir = ""
	}
	return src, rest, nil
}

func flowsValidate(args []string, stdout, stderr io.Writer) error {
	src, rest, err := sourceArgs("validate", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{"flows validate takes one folder"}
	}
	content, problems, err := src.load()
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stdout, p.String())
		}
		fmt.Fprintf(stdout, "%d problem(s); nothing was published. Fix them and run `intake flows validate` again.\n", len(problems))
		return errInvalid
	}
	nodes := 0
	for _, f := range content.Flows {
		nodes += len(f.Nodes)
	}
	fmt.Fprintf(stdout, "ok: %d flow(s), %d nodes, locales %v (%s)\n", len(content.Flows), nodes, content.Catalog.Languages(), src)
	return nil
}

func flowsGraph(args []string, stdout, stderr io.Writer) error {
	var format *string
	src, rest, err := sourceArgs("graph", args, stderr, func(fs *flag.FlagSet) {
		format = fs.String("format", "mermaid", "mermaid or dot")
	})
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError{"usage: intake flows graph [--format mermaid|dot] ID (e.g. intake)"}
	}
	if *format != "mermaid" && *format != "dot" {
		return usageError{fmt.Sprintf("--format %q: choose mermaid or dot", *format)}
	}
	ffs, _ := src.fs()
	fl, problems := flows.Load(ffs)
	for _, f := range fl {
		if f.ID == rest[0] {
			g, err := flows.Graph(f, *format)
			if err != nil {
				return err
			}
			fmt.Fprint(stdout, g)
			return nil
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("no valid flow %q; the scripts have problems, see `intake flows validate`", rest[0])
	}
	return fmt.Errorf("no flow with id %q", rest[0])
}

func flowsTest(args []string, stdout, stderr io.Writer) error {
	src, rest, err := sourceArgs("test", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{"flows test takes one folder"}
	}
	ffs, _ := src.fs()
	tests, problems := flows.LoadTests(ffs)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stdout, p.String())
		}
		return errInvalid
	}
	cfg := config{keyConfig: throwawayKeys()}
	store, _, closeStore, err := openStore(cfg, true, stdout)
	if err != nil {
		return err
	}
	defer closeStore()
	svc, err := newService(cfg, store, src, discardLogger())
	if err != nil {
		return err
	}
	passed, failed := 0, 0
	for _, tf := range tests {
		for i, tr := range tf.Tests {
			failures, err := svc.engine.RunTranscript(context.Background(), tr, fmt.Sprintf("%s#%d", tf.File, i), nil)
			if err != nil {
				return fmt.Errorf("%s: %w", tr.Pos, err)
			}
			if len(failures) == 0 {
				passed++
				continue
			}
			failed++
			fmt.Fprintf(stdout, "FAIL %s:%d:%d: %s\n", tr.Pos.File, tr.Pos.Line, tr.Pos.Col, tr.Name)
			for _, f := range failures {
				fmt.Fprintf(stdout, "     %s\n", f)
			}
		}
	}
	fmt.Fprintf(stdout, "flows: %d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return errInvalid
	}
	return nil
}
