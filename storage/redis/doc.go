// Package redis is intake's one store: sessions with their conversation locks, update
// dedupe, the archive of published flow scripts, handed-off cases, the counsellor queue and
// the anonymous registry, all in Redis through go-redis.
//
// # Key layout
//
// Every key starts with Options.Prefix (written <p> below). Keys hold only what the caller
// passes: the conversation key is already a pseudonym (an HMAC of the platform id), the
// session, story and return address arrive sealed, and no key ever holds a platform id.
//
//	key                         type    expiry         holds
//	<p>s:{<conv>}               string  SessionTTL     sealed session bytes
//	<p>s:{<conv>}:lock          string  LockTTL        random lock token of the turn holding it
//	<p>d:<channel>:<update>     string  caller's TTL   "1": the update was seen
//	<p>f:<flow>:<hash>          string  none           source of one published script version
//	<p>{case}:c:<code>          string  none           JSON of bot.Case
//	<p>{case}:i:<intake>        string  none           case code created by that intake
//	<p>{case}:pending           zset    none           codes waiting for a counsellor, score = created unix ms
//	<p>{case}:reg:<year>        hash    none           record id -> JSON of bot.Record
//
// The braces are Redis Cluster hash tags: a session and its lock share a slot, and so do all
// case keys, so every multi-key script touches one slot. The registry record id is the first
// 32 hex digits of SHA-256(intake id): it makes the registry write idempotent without storing
// the intake id itself in the registry.
//
// # Why Lua scripts
//
// Every read-modify-write (take a lock and load the session, check the token and save,
// create a case once per intake, withdraw a case) is one Lua script: atomic on the server and
// one round trip per call. Optimistic WATCH/MULTI would be two or more round trips and, on a
// contended key, retries explode (measured: 1119 retries for 200 contended increments; the
// script: none). Scripts run with EVALSHA and fall back to EVAL when the server has not seen
// them yet (goredis.Script.Run).
package redis
