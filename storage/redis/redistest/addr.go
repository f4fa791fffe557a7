package redistest

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// Addr is the address of the server (or cluster) c talks to, as REDIS_URL takes it, for an
// intake process a test starts on the test's Redis (with the test's prefix as
// INTAKE_REDIS_PREFIX).
func Addr(t testing.TB, c goredis.UniversalClient) string {
	t.Helper()
	b, ok := backends.Load(c)
	if !ok {
		t.Fatal("redistest: Addr needs a client from Client")
	}
	return b.(backend).addr
}
