package bot

import "time"

// SetMarkWait changes how long a repeated update waits for its reply's delivery mark, and
// returns a function that puts it back.
func SetMarkWait(d time.Duration) (restore func()) {
	old := markWait
	markWait = d
	return func() { markWait = old }
}
