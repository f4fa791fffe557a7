package redis_test

import (
	"reflect"
	"testing"
	"time"

	"intake/bot"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

func TestAccounts(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()

	if a, err := s.GetAccount(ctx, "nobody"); a != nil || err != nil {
		t.Fatalf("get a missing account: %+v, %v; want nil, nil", a, err)
	}
	if list, err := s.ListAccounts(ctx); len(list) != 0 || err != nil {
		t.Fatalf("list of none: %+v, %v", list, err)
	}
	accounts := []bot.Account{
		{Name: "sanne", Role: bot.RoleCounsellor, PassHash: "$argon2id$v=19$s"},
		{Name: "admin", Role: bot.RoleAdmin, PassHash: "$argon2id$v=19$a"},
		{Name: "mo", Role: bot.RoleSupport, PassHash: "$argon2id$v=19$m"},
	}
	for _, a := range accounts {
		if err := s.PutAccount(ctx, a); err != nil {
			t.Fatalf("put %s: %v", a.Name, err)
		}
	}
	if a, err := s.GetAccount(ctx, "sanne"); err != nil || !reflect.DeepEqual(a, &accounts[0]) {
		t.Errorf("get = %+v, %v; want %+v", a, err, accounts[0])
	}
	// A changed account replaces the old one and is listed once.
	accounts[2].Role, accounts[2].PassHash = bot.RoleCounsellor, "$argon2id$v=19$m2"
	if err := s.PutAccount(ctx, accounts[2]); err != nil {
		t.Fatalf("put again: %v", err)
	}
	list, err := s.ListAccounts(ctx)
	if want := []bot.Account{accounts[1], accounts[2], accounts[0]}; err != nil || !reflect.DeepEqual(list, want) {
		t.Errorf("list = %+v, %v\nwant %+v (by name)", list, err, want)
	}

	if err := s.DeleteAccount(ctx, "mo"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := s.DeleteAccount(ctx, "mo"); err != nil {
		t.Errorf("delete twice: %v", err)
	}
	if a, err := s.GetAccount(ctx, "mo"); a != nil || err != nil {
		t.Errorf("get deleted = %+v, %v", a, err)
	}
	list, err = s.ListAccounts(ctx)
	if want := []bot.Account{accounts[1], accounts[0]}; err != nil || !reflect.DeepEqual(list, want) {
		t.Errorf("list after delete = %+v, %v", list, err)
	}
	if names := c.SMembers(ctx, prefix+"{desk}:accts").Val(); len(names) != 2 {
		t.Errorf("name set = %q, want two names", names)
	}

	if err := s.PutAccount(ctx, bot.Account{Role: bot.RoleAdmin}); err == nil {
		t.Error("put an account without a name: want an error")
	}
	if err := s.DeleteAccount(ctx, ""); err == nil {
		t.Error("delete an account without a name: want an error")
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	const hash = "9d5ed678fe57bcca610140957afab571"

	if name, err := s.GetLogin(ctx, hash); name != "" || err != nil {
		t.Fatalf("get a missing login: %q, %v", name, err)
	}
	if err := s.PutLogin(ctx, hash, "sanne", 300*time.Millisecond); err != nil {
		t.Fatalf("put: %v", err)
	}
	if name, err := s.GetLogin(ctx, hash); name != "sanne" || err != nil {
		t.Errorf("get = %q, %v", name, err)
	}
	if ttl := c.PTTL(ctx, prefix+"{desk}:login:"+hash).Val(); ttl <= 0 || ttl > 300*time.Millisecond {
		t.Errorf("login ttl = %v, want at most 300ms", ttl)
	}
	redistest.Advance(t, c, 400*time.Millisecond)
	if name, err := s.GetLogin(ctx, hash); name != "" || err != nil {
		t.Errorf("get an expired login = %q, %v", name, err)
	}

	if err := s.PutLogin(ctx, hash, "sanne", time.Minute); err != nil {
		t.Fatalf("put: %v", err)
	}
	if err := s.DeleteLogin(ctx, hash); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if name, err := s.GetLogin(ctx, hash); name != "" || err != nil {
		t.Errorf("get a deleted login = %q, %v", name, err)
	}

	bad := []struct {
		name       string
		hash, user string
		ttl        time.Duration
	}{
		{"no hash", "", "sanne", time.Minute},
		{"no name", hash, "", time.Minute},
		{"no ttl", hash, "sanne", 0},
	}
	for _, b := range bad {
		if err := s.PutLogin(ctx, b.hash, b.user, b.ttl); err == nil {
			t.Errorf("put login with %s: want an error", b.name)
		}
	}
}

func TestCountFailure(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	const window = time.Second
	count := func(name string) int {
		t.Helper()
		n, err := s.CountFailure(ctx, name, window)
		if err != nil {
			t.Fatalf("count failure: %v", err)
		}
		return n
	}

	for want := 1; want <= 3; want++ {
		if got := count("sanne"); got != want {
			t.Errorf("failure %d counted as %d", want, got)
		}
	}
	if got := count("mo"); got != 1 {
		t.Errorf("another name's first failure counted as %d", got)
	}
	// The window starts at the first failure; later ones do not extend it.
	redistest.Advance(t, c, 600*time.Millisecond)
	if got := count("sanne"); got != 4 {
		t.Errorf("failure within the window counted as %d, want 4", got)
	}
	if ttl := c.PTTL(ctx, prefix+"{desk}:fail:sanne").Val(); ttl <= 0 || ttl > 400*time.Millisecond {
		t.Errorf("counter ttl = %v after 600ms of a 1s window, want at most 400ms", ttl)
	}
	redistest.Advance(t, c, 600*time.Millisecond)
	if got := count("sanne"); got != 1 {
		t.Errorf("first failure of a new window counted as %d", got)
	}

	if err := s.ResetFailures(ctx, "sanne"); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if got := count("sanne"); got != 1 {
		t.Errorf("first failure after a reset counted as %d", got)
	}
	if _, err := s.CountFailure(ctx, "sanne", 0); err == nil {
		t.Error("count failure without a window: want an error")
	}
}
