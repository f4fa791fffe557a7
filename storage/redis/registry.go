package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
)

// registryScanCount is the HSCAN batch size: a year of a thousand records is one round
// trip and one of 100,000 twenty, while one call walks few enough fields (a few
// milliseconds of server time) not to hold up the bot's own commands.
const registryScanCount = 5000

// Records returns every registry record of year (the intake's own and imported ones), in
// no particular order, none when the year has none. It reads the year's hash with HSCAN
// rather than one HGETALL, so a big year never blocks the server for long; a record
// written or closed while the scan runs is returned once, in its old or its new version.
func (s *Store) Records(ctx context.Context, year int) ([]bot.Record, error) {
	key := s.registryKey(year)
	// HSCAN may return a field twice (while the hash is rehashed): seen keeps one.
	seen := map[string]struct{}{}
	intern := map[string]string{}
	var recs []bot.Record
	var cursor uint64
	for {
		kv, next, err := s.c.HScan(ctx, key, cursor, "", registryScanCount).Result()
		if err != nil {
			return nil, fmt.Errorf("registry records %d: %w", year, err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			id := kv[i]
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
			var r bot.Record
			if err := decodeRecord(kv[i+1], &r, intern); err != nil {
				// The id is a hash or an import line, never personal; it lets an
				// operator find the broken record.
				return nil, fmt.Errorf("registry records %d: decode record %s: %w", year, id, err)
			}
			recs = append(recs, r)
		}
		if next == 0 {
			return recs, nil
		}
		cursor = next
	}
}

// importRecordsScript replaces the records one source imported into a registry year: it
// writes ids <source>:1..n and deletes <source>:n+1, n+2, ... until one is missing. Every
// import of a source writes a gapless run from 1, so that loop removes exactly the lines
// an earlier, longer import left behind, without scanning the rest of the year.
// KEYS: registry year. ARGV: id prefix, then id suffix and record JSON, pairwise.
// Returns how many records of an earlier import it overwrote or deleted.
var importRecordsScript = goredis.NewScript(`
local replaced = 0
local n = 0
for i = 2, #ARGV, 2 do
	n = n + 1
	if redis.call('HSET', KEYS[1], ARGV[1] .. ARGV[i], ARGV[i + 1]) == 0 then
		replaced = replaced + 1
	end
end
local k = n + 1
while redis.call('HDEL', KEYS[1], ARGV[1] .. k) == 1 do
	replaced = replaced + 1
	k = k + 1
end
return replaced
`)

// ImportRecords stores records counted outside intake (earlier years counted by hand) in
// the registry of year, where Records and so the statistics find them beside the intake's
// own. Each record is filed under an id made from source and its position:
// "imp:" + the first 16 hex digits of SHA-256(source) + ":" + line, line counting from 1
// in the order of recs. Such ids never look like the 32-hex-digit ids of intake records.
//
// Importing is idempotent per source and year: a second import of the same source
// replaces the records of the first in one atomic step (changed lines are overwritten,
// lines beyond the new end deleted), so importing a file twice never counts it twice, and
// an import that fails stores nothing. The source should therefore name the file as the
// person importing it knows it (the command passes the file's base name): two different
// files with the same name replace each other, and a renamed file counts as another
// source. A record whose Year is not year is refused, so a file cannot put records of one
// year into another. Imported records carry no expiry, like all registry records.
//
// It returns how many records of an earlier import of source it replaced (0 the first
// time).
func (s *Store) ImportRecords(ctx context.Context, year int, source string, recs []bot.Record) (int, error) {
	if source == "" {
		return 0, errors.New("import records: no source name")
	}
	if year <= 0 {
		return 0, fmt.Errorf("import records: bad year %d", year)
	}
	args := make([]any, 0, 1+2*len(recs))
	args = append(args, importPrefix(source))
	for i, r := range recs {
		if r.Year != year {
			return 0, fmt.Errorf("import records: record %d is of %d, not %d", i+1, r.Year, year)
		}
		raw, err := json.Marshal(r)
		if err != nil {
			return 0, fmt.Errorf("import records: encode record %d: %w", i+1, err)
		}
		args = append(args, strconv.Itoa(i+1), raw)
	}
	replaced, err := importRecordsScript.Run(ctx, s.c, []string{s.registryKey(year)}, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("import records: %w", err)
	}
	return replaced, nil
}

// importPrefix is the registry id prefix of the records imported from source.
func importPrefix(source string) string {
	sum := sha256.Sum256([]byte(source))
	return "imp:" + hex.EncodeToString(sum[:])[:16] + ":"
}
