package flows

import (
	"io/fs"
	"slices"
	"strings"
)

// File name endings: scripts are *.yaml, transcript tests *.test.yaml beside them.
const (
	scriptSuffix = ".yaml"
	testSuffix   = ".test.yaml"
)

// Load parses every script (*.yaml but not *.test.yaml, and not the crisis phrase list
// CrisisFile, which LoadCrisis reads) at the root of fsys, in name order. It reports the
// problems of every file, a flow id used by two files, and a folder without scripts. Only
// scripts read without problems are returned, each id once, so a broken file never goes
// live; run Validate on each before using them.
func Load(fsys fs.FS) ([]*Flow, Problems) {
	names, probs := listFiles(fsys, isScript)
	// A script saved as .yml would silently never run; say so instead.
	misnamed, _ := listFiles(fsys, func(name string) bool { return strings.HasSuffix(name, ".yml") })
	for _, name := range misnamed {
		probs.add(Pos{File: name}, "this file is not read: scripts and tests must end in .yaml, so rename it to %s", strings.TrimSuffix(name, ".yml")+".yaml")
	}
	if len(names) == 0 && len(probs) == 0 {
		probs.add(Pos{}, "no flow scripts found: a script is a file ending in .yaml in the flows folder")
	}
	var loaded []*Flow
	owner := map[string]string{} // flow id -> file that declared it first
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			probs.add(Pos{File: name}, "the file could not be read: %v", err)
			continue
		}
		f, fileProbs := Parse(name, src)
		probs = append(probs, fileProbs...)
		if len(fileProbs) > 0 {
			continue
		}
		if first, dup := owner[f.ID]; dup && f.ID != "" {
			probs.add(f.Fields["id"], "flow id %q is already used by %s: give each flow its own id", f.ID, first)
			continue
		}
		owner[f.ID] = name
		loaded = append(loaded, f)
	}
	probs.Sort()
	return loaded, probs
}

// LoadTests parses every transcript-test file (*.test.yaml) at the root of fsys, in name
// order. Files with problems are reported and left out.
func LoadTests(fsys fs.FS) ([]*TestFile, Problems) {
	names, probs := listFiles(fsys, isTestFile)
	var files []*TestFile
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			probs.add(Pos{File: name}, "the file could not be read: %v", err)
			continue
		}
		tf, fileProbs := ParseTests(name, src)
		probs = append(probs, fileProbs...)
		if len(fileProbs) == 0 {
			files = append(files, tf)
		}
	}
	probs.Sort()
	return files, probs
}

// isScript reports whether a file name is a flow script.
func isScript(name string) bool {
	return strings.HasSuffix(name, scriptSuffix) && !isTestFile(name) && name != CrisisFile
}

// isTestFile reports whether a file name is a transcript-test file.
func isTestFile(name string) bool { return strings.HasSuffix(name, testSuffix) }

// listFiles returns the names of the regular files at the root of fsys that match, sorted
// so problems and flows always come in the same order.
func listFiles(fsys fs.FS, match func(string) bool) ([]string, Problems) {
	var probs Problems
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		probs.add(Pos{}, "the flows folder could not be read: %v", err)
		return nil, probs
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && match(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, probs
}
