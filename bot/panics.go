package bot

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// A recovered panic is logged by what and where, never by its value: a panic value can be
// built from what a student wrote (panic("bad answer " + text)), and the argument words of
// a stack trace can hold ids (a Telegram chat id is an int64 argument). Every recovery
// point (a turn, the platform channels, the web handlers) describes panics with these two.

// PanicKind names a recovered panic without its value: the runtime's own words for a
// runtime error (an index out of range, a nil dereference: types and numbers only), else
// the value's type.
func PanicKind(p any) string {
	if err, ok := p.(runtime.Error); ok {
		return err.Error()
	}
	return fmt.Sprintf("%T", p)
}

// PanicStack is the stack of the calling goroutine without argument values: function
// names, files and lines. Called in a deferred recover, it shows where the panic was.
func PanicStack() string { return StackWithoutArgs(debug.Stack()) }

// StackWithoutArgs keeps the function names and lines of a stack trace and drops the
// argument values.
func StackWithoutArgs(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		// A frame line is "pkg.(*T).method(0xc000..., {0x...})": the arguments are the
		// last parenthesised group; they hold no parentheses themselves.
		if !strings.HasPrefix(l, "\t") && strings.HasSuffix(l, ")") {
			if open := strings.LastIndex(l, "("); open > 0 {
				lines[i] = l[:open] + "(…)"
			}
		}
	}
	return strings.Join(lines, "\n")
}

// runSafely is run with a panic turned into an error, so one bad turn neither takes the
// process down with every other conversation nor leaves this one locked: the caller
// unlocks the conversation and the student gets the calm error reply with the emergency
// number. The error and the log name the panic's kind and place, never its value.
func (t *turn) runSafely() (err error) {
	defer func() {
		if p := recover(); p != nil {
			t.log.Error("turn panicked", "panic", PanicKind(p), "stack", PanicStack())
			err = fmt.Errorf("turn panicked (%s)", PanicKind(p))
		}
	}()
	return t.run()
}
