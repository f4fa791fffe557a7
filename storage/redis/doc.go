// Package redis is intake's one store: sessions with their conversation locks, update
// dedupe, the archive of published flow scripts, handed-off cases with their threads, the
// counsellor queue and its announcements, the anonymous registry, the outboxes of messages
// for students, and desk accounts with their logins, all in Redis through go-redis.
//
// # Key layout
//
// Every key starts with Options.Prefix (written <p> below). Keys hold only what the caller
// passes: the conversation key is already a pseudonym (an HMAC of the platform id), the
// session, story, return address, thread texts and deliveries arrive sealed, and no key
// ever holds a platform id.
//
//	key                         type    expiry         holds
//	<p>s:{<conv>}               string  SessionTTL     sealed session bytes
//	<p>s:{<conv>}:lock          string  LockTTL        random lock token of the turn holding it
//	<p>s:{<conv>}:sent          string  1 hour         update id whose reply reached the student
//	<p>d:<channel>:<update>     string  caller's TTL   "1": the update was seen
//	<p>f:<flow>:<hash>          string  none           source of one published script version
//	<p>{case}:c:<code>          string  none           JSON of bot.Case (with its revision "rev")
//	<p>{case}:i:<intake>        string  none           case code created by that intake
//	<p>{case}:pending           zset    none           pending handoffs, score = queue sequence
//	                                                   number (arrival order, not a time)
//	<p>{case}:open              zset    none           pending and claimed handoffs, same score
//	<p>{case}:done              zset    none           closed handoffs (score = closing day, unix
//	                                                   ms) and registrations (creation day) whose
//	                                                   content the retention purge still erases
//	<p>{case}:t:<code>          list    none           the case's thread: JSON of bot.Entry, oldest first
//	<p>{case}:reg:<year>        hash    none           record id -> JSON of bot.Record
//	<p>{case}:announce          stream  MAXLEN ~10000  announcements: fields code, reason;
//	                                                   deleted once every group acked them
//	<p>{out:<outbox>}           stream  OutboxTTL,     deliveries of one outbox: field d (sealed);
//	                                    to day's end   consumer group "deliver"; acked ones deleted
//	<p>{desk}:acct:<name>       string  none           JSON of bot.Account
//	<p>{desk}:accts             set     none           names of all accounts
//	<p>{desk}:login:<hash>      string  login TTL      account name of a login session
//	<p>{desk}:fail:<name>       string  window         failed logins since the window began
//	<p>{desk}:audit             list    LTRIM 100000   desk audit log, newest first: JSON of
//	                                                   bot.AuditEntry (day, account, code, action)
//
// The braces are Redis Cluster hash tags: a session and its lock share a slot, and so do all
// case keys (a case, its thread, the indexes, the registry and the announcement stream
// change in one script), all desk keys (an account and the set of names change in one
// MULTI), and each outbox stream (whose tag is its whole name, so outboxes spread over the
// cluster). An outbox name may hold ':' and other printable characters but no brace. The
// registry record id is the first 32 hex digits of SHA-256(intake id): it makes the registry
// write idempotent without storing the intake id itself in the registry. Records imported
// from an earlier year's hand count (ImportRecords) have the id
// "imp:<first 16 hex digits of SHA-256(source)>:<line>", so a second import of the same
// file replaces the first instead of counting it twice.
//
// # Redis Cluster
//
// Open takes a redis+cluster:// URL for a cluster; the Store works on either client. Every
// script and MULTI names all its keys in KEYS (no script builds a key) and they share one
// hash tag; no operation sends a multi-key command over several slots (a cluster refuses
// it, or go-redis would split it into a round trip per master). Whatever must see every
// key (the bench's memory figures, DeleteAll, Reseal's search) scans each master in turn,
// since SCAN through a cluster client sees one node. Sessions spread over the masters by
// conversation, outboxes by name; the {case} and {desk} keys each sit on one master. The
// cluster drill (TestCluster) runs every test of this package again on a three-master
// cluster, where redistest fails any command or transaction that spans slots.
//
// # Streams
//
// Announcements and outboxes are Redis streams read by consumer groups: each announcement
// reaches every group (one per channel adapter) once, each delivery one consumer of its
// outbox. Delivery is at least once: an entry stays pending for the consumer that read it
// until acknowledged, and every read returns the consumer's pending entries first. So a
// consumer must keep a stable name (say the channel and the replica's number): one that
// crashed gets its unacknowledged entries back when it restarts under the same name; under
// a new name they would stay pending for good, as nothing claims the entries of a consumer
// that never returns (XAUTOCLAIM could, should replicas ever get changing names). A read
// waiting for new entries is not interrupted by its context (go-redis waits for the
// server's reply), so consumers wait a few seconds at a time, not longer.
//
// Stream entries get sequence numbers as ids ("0-1", "0-2", ...), not the time XADD *
// would write. No key, value, score or id holds a time of day: what the engine and the desk
// store in clear is a day, the queue is ordered by sequence numbers, and an open case's
// exact times arrive sealed. Only keys that expire soon carry one in their expiry (a
// session's idle TTL, locks, logins, failure counters, leases).
//
// # Why Lua scripts
//
// Every read-modify-write (take a lock and load the session, check the token and save,
// create and announce a case once per intake, save a case if its revision is unchanged,
// withdraw a case, purge a case's content after retention, append to a live case's thread,
// count a failed login) is one Lua script: atomic on the server and one round trip per call. Optimistic WATCH/MULTI would
// be two or more round trips and, on a contended key, retries explode (measured: 1119
// retries for 200 contended increments; the script: none). Scripts run with EVALSHA and
// fall back to EVAL when the server has not seen them yet (goredis.Script.Run). Writes of
// several keys that need no read (an account and the set of names; acknowledge and delete
// a delivery; push and trim an audit entry) are one MULTI pipeline instead: also atomic and one round trip.
//
// The scripts that change a case or record in place decode and re-encode its JSON with
// cjson, which cannot keep an empty object apart from an empty array, and Redis and
// miniredis write those back differently. They write every empty container as null (or
// leave it out), which Go decodes into any field as its zero value; all other fields keep
// their values. SaveCase does not re-encode: it stores the case as Go encoded it.
package redis
