package bot

import "sync/atomic"

// LeaseWatch remembers what the last attempt to take or renew a platform lease said, so a
// channel can tell whether it is ready: connected while this replica holds the lease,
// standing by while another replica holds it, not ready while nobody knows (before the
// first attempt, after a term ends, when the store does not answer). Safe for concurrent
// use; the zero value knows nothing yet.
type LeaseWatch struct{ state atomic.Int32 }

const (
	leaseUnknown int32 = iota
	leaseHeld
	leaseElsewhere
)

// Record notes the answer of a Leases.Lease call: held, or held by another replica, or
// unknown when the call failed.
func (w *LeaseWatch) Record(held bool, err error) {
	switch {
	case err != nil:
		w.state.Store(leaseUnknown)
	case held:
		w.state.Store(leaseHeld)
	default:
		w.state.Store(leaseElsewhere)
	}
}

// Forget notes that this replica's term ended; who holds the lease is unknown until the
// next attempt.
func (w *LeaseWatch) Forget() { w.state.Store(leaseUnknown) }

// Held reports whether the last attempt gave this replica the lease.
func (w *LeaseWatch) Held() bool { return w.state.Load() == leaseHeld }

// Elsewhere reports whether the last attempt found the lease held by another replica:
// this one stands by.
func (w *LeaseWatch) Elsewhere() bool { return w.state.Load() == leaseElsewhere }
