package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"intake/bot"
)

// Desk keys share the {desk} hash tag, so an account and the set of names change in one
// MULTI on a cluster too.
func (s *Store) accountKey(name string) string { return s.prefix + "{desk}:acct:" + name }
func (s *Store) accountsKey() string           { return s.prefix + "{desk}:accts" }
func (s *Store) loginKey(hash string) string   { return s.prefix + "{desk}:login:" + hash }
func (s *Store) failKey(name string) string    { return s.prefix + "{desk}:fail:" + name }

// countFailureScript counts a failed login and starts the window when the counter is new
// (or, should it ever have lost it, has no expiry): later failures do not extend it.
// KEYS: counter. ARGV: window in ms. Returns the count.
var countFailureScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

// PutAccount stores a (new or changed) account and lists its name, in one MULTI. The
// caller validates the name; an empty one is refused.
func (s *Store) PutAccount(ctx context.Context, a bot.Account) error {
	if a.Name == "" {
		return errors.New("put account: no name")
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("put account: encode: %w", err)
	}
	_, err = s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Set(ctx, s.accountKey(a.Name), raw, 0)
		p.SAdd(ctx, s.accountsKey(), a.Name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("put account: %w", err)
	}
	return nil
}

// GetAccount returns the account, or nil, nil when there is none.
func (s *Store) GetAccount(ctx context.Context, name string) (*bot.Account, error) {
	if name == "" {
		return nil, nil
	}
	raw, err := s.c.Get(ctx, s.accountKey(name)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get account: %w", err)
	}
	var a bot.Account
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("get account: decode: %w", err)
	}
	return &a, nil
}

// DeleteAccount removes the account and its name from the list, in one MULTI; a missing
// account is no error. Its login sessions stay until they expire, but name an account
// that is gone: whoever checks a login looks the account up too.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	if name == "" {
		return errors.New("delete account: no name")
	}
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, s.accountKey(name))
		p.SRem(ctx, s.accountsKey(), name)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	return nil
}

// ListAccounts returns every account, ordered by name: the set of names, then the accounts
// in one MGET (two round trips, one when there are none).
func (s *Store) ListAccounts(ctx context.Context) ([]bot.Account, error) {
	names, err := s.c.SMembers(ctx, s.accountsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	slices.Sort(names)
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = s.accountKey(n)
	}
	vals, err := s.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	out := make([]bot.Account, 0, len(vals))
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok {
			continue // deleted since SMEMBERS
		}
		var a bot.Account
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			return nil, fmt.Errorf("list accounts: decode account %d of %d: %w", i+1, len(names), err)
		}
		out = append(out, a)
	}
	return out, nil
}

// PutLogin stores a login session: the hash of its token names the account for ttl.
func (s *Store) PutLogin(ctx context.Context, tokenHash, name string, ttl time.Duration) error {
	switch {
	case tokenHash == "":
		return errors.New("put login: no token hash")
	case name == "":
		return errors.New("put login: no account name")
	case ttl < time.Millisecond:
		// A login without expiry would be kept forever.
		return errors.New("put login: ttl must be at least 1ms")
	}
	if err := s.c.Set(ctx, s.loginKey(tokenHash), name, ttl).Err(); err != nil {
		return fmt.Errorf("put login: %w", err)
	}
	return nil
}

// GetLogin returns the account name of a login session, "" when there is none (or it
// expired).
func (s *Store) GetLogin(ctx context.Context, tokenHash string) (string, error) {
	if tokenHash == "" {
		return "", nil
	}
	name, err := s.c.Get(ctx, s.loginKey(tokenHash)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get login: %w", err)
	}
	return name, nil
}

// DeleteLogin ends a login session; a missing one is no error.
func (s *Store) DeleteLogin(ctx context.Context, tokenHash string) error {
	if tokenHash == "" {
		return nil
	}
	if err := s.c.Del(ctx, s.loginKey(tokenHash)).Err(); err != nil {
		return fmt.Errorf("delete login: %w", err)
	}
	return nil
}

// CountFailure counts a failed login for name and returns the count within the window,
// which starts at the first failure: the counter expires window after it, whatever
// follows. One script, one round trip.
func (s *Store) CountFailure(ctx context.Context, name string, window time.Duration) (int, error) {
	switch {
	case name == "":
		return 0, errors.New("count failure: no name")
	case window < time.Millisecond:
		return 0, errors.New("count failure: window must be at least 1ms")
	}
	n, err := countFailureScript.Run(ctx, s.c, []string{s.failKey(name)}, ms(window)).Int()
	if err != nil {
		return 0, fmt.Errorf("count failure: %w", err)
	}
	return n, nil
}

// ResetFailures forgets the failed logins of name (after a successful one).
func (s *Store) ResetFailures(ctx context.Context, name string) error {
	if name == "" {
		return errors.New("reset failures: no name")
	}
	if err := s.c.Del(ctx, s.failKey(name)).Err(); err != nil {
		return fmt.Errorf("reset failures: %w", err)
	}
	return nil
}
