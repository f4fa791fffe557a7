// Package drills holds the reliability drills of intake: tests that run the real `intake
// serve` binary as subprocesses against a Redis and a fake Telegram Bot API
// (bot/telegram/telegramtest) that the test starts itself, on loopback only, and break
// things on purpose. Students are scripted Telegram conversations, in webhook mode except
// in TestPollCrash; what each one received is read from the fake's record. Each drill is bounded by a deadline and
// fails with what was stuck (the student, the step, the chat and the service's log) instead
// of hanging. The randomness is seeded; the seed is logged, and INTAKE_DRILL_SEED replays it.
//
// The package builds ./cmd/intake once per test binary into a temporary folder, and needs
// redis-server on the PATH (Debian: apt-get install redis-server); a test fails, and says
// so, when it is missing.
//
// TestCrash (20 to 90 s): 100 conversations run to a registration or a handoff while the
// serve process is killed with SIGKILL at 20 random moments and started again. It proves
// that every conversation completes, that each student saw exactly the bot messages of
// their path (no step skipped, none repeated), and that each intake made exactly one case
// and one registry record. A reply is allowed to appear twice only where it must be able
// to: its update's webhook delivery was cut by a kill, so Telegram delivers it again, and
// the kill may have come while the reply was going out. The drill counts and logs those.
//
// TestPollCrash (8 to 25 s): TestCrash in poll mode, 30 conversations and 8 kills. The
// students' updates wait in the fake's getUpdates queue until the service confirms them by
// moving its offset past them; the process is started again under the same replica name,
// so it renews its own poll lease at once. It proves that no update is lost: a process
// killed after fetching an update and before answering it leaves it to the next poll, and
// no update is confirmed before its reply went out. The other proofs are TestCrash's; a
// reply may appear twice only where the killed process had been handed its update and
// had not confirmed it.
//
// TestRedisRestart (15 to 40 s): Redis runs with AOF (appendfsync everysec, as in
// docker-compose.yml) and is killed with SIGKILL while conversations reach their handoff,
// then started again on the same port and folder. It proves that every case a student was
// shown a case code for is still there, that intake reconnects without a restart, that
// /readyz answers 503 during the outage and 200 after it, and that every conversation
// continues to its end.
//
// TestReplicas (10 to 20 s): three serve processes share one Redis; webhook updates go to
// replicas at random, some conversations send several updates at once to different
// replicas, and some updates go to two replicas at the same time. Counsellors log in to
// the desks of different replicas and all try to claim every case at once, then write to
// the students. It proves that no update is lost, that every case is claimed exactly once,
// and that every counsellor message reaches the student exactly once.
package drills
