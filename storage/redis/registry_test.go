package redis_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"intake/bot"
	"intake/storage/redis"
	"intake/storage/redis/redistest"
)

// imported returns n hand-counted records of year, the i-th with category cats[i%len].
func imported(year, n int, cats ...string) []bot.Record {
	recs := make([]bot.Record, n)
	for i := range recs {
		recs[i] = bot.Record{Year: year, Month: 1 + i%12, Channel: "teams", Kind: "import",
			Fields: map[string]string{"category": cats[i%len(cats)]}}
	}
	return recs
}

// categories counts the records per category, the way the statistics do.
func categories(recs []bot.Record) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		out[r.Fields["category"]]++
	}
	return out
}

func TestRecordsEmptyYear(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	recs, err := s.Records(t.Context(), 1999)
	if err != nil || len(recs) != 0 {
		t.Fatalf("Records(1999) = %v, %v; want none", recs, err)
	}
}

// TestRecordsIntakeAndClose: the records the intake writes, with the follow-up a close
// adds, come back from Records of their year and of no other.
func TestRecordsIntakeAndClose(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	ctx := t.Context()
	var want []bot.Record
	for i, code := range []string{"AAAA-0001", "AAAA-0002", "AAAA-0003"} {
		cs, r := newCase(code, fmt.Sprintf("intake-%d", i))
		if _, err := s.CreateCase(ctx, cs, r); err != nil {
			t.Fatalf("create %s: %v", code, err)
		}
		want = append(want, r)
	}
	got, err := s.GetCase(ctx, "AAAA-0002")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	got.Status, got.FollowUp = bot.StatusClosed, "referral"
	if err := s.SaveCase(ctx, got); err != nil {
		t.Fatalf("close: %v", err)
	}
	recs, err := s.Records(ctx, 2025)
	if err != nil {
		t.Fatalf("records: %v", err)
	}
	if len(recs) != 3 {
		t.Fatalf("records = %d, want 3: %+v", len(recs), recs)
	}
	closed := 0
	for _, r := range recs {
		if r.FollowUp == "referral" {
			closed++
			r.FollowUp = ""
		}
		if !reflect.DeepEqual(r, want[0]) {
			t.Errorf("record = %+v, want %+v", r, want[0])
		}
	}
	if closed != 1 {
		t.Errorf("%d records carry the follow-up, want 1", closed)
	}
	if other, err := s.Records(ctx, 2024); err != nil || len(other) != 0 {
		t.Errorf("Records(2024) = %v, %v; want none", other, err)
	}
}

// TestImportRecordsTwice: importing the same file twice counts it once; a changed and
// shorter file replaces the earlier import entirely; another file and the intake's own
// records are left alone.
func TestImportRecordsTwice(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	ctx := t.Context()
	cs, own := newCase("BBBB-0001", "intake-own")
	if _, err := s.CreateCase(ctx, cs, own); err != nil {
		t.Fatalf("create: %v", err)
	}

	first := imported(2025, 5, "bullying", "other")
	n, err := s.ImportRecords(ctx, 2025, "registry-2025.csv", first)
	if err != nil || n != 0 {
		t.Fatalf("first import: replaced %d, %v; want 0, nil", n, err)
	}
	n, err = s.ImportRecords(ctx, 2025, "registry-2025.csv", first)
	if err != nil || n != 5 {
		t.Fatalf("same import again: replaced %d, %v; want 5, nil", n, err)
	}
	recs, err := s.Records(ctx, 2025)
	if err != nil {
		t.Fatalf("records: %v", err)
	}
	if got, want := categories(recs), map[string]int{"stalking": 1, "bullying": 3, "other": 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("after importing twice: %v, want %v", got, want)
	}

	// The officer fixes the file: three lines now, one category changed.
	fixed := imported(2025, 3, "discrimination")
	n, err = s.ImportRecords(ctx, 2025, "registry-2025.csv", fixed)
	if err != nil || n != 5 {
		t.Fatalf("changed import: replaced %d, %v; want 5 (3 overwritten, 2 deleted)", n, err)
	}
	if _, err := s.ImportRecords(ctx, 2025, "faculty-counts.csv", imported(2025, 2, "aggression")); err != nil {
		t.Fatalf("another source: %v", err)
	}
	recs, err = s.Records(ctx, 2025)
	if err != nil {
		t.Fatalf("records: %v", err)
	}
	if got, want := categories(recs), map[string]int{"stalking": 1, "discrimination": 3, "aggression": 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("after the changed import: %v, want %v", got, want)
	}
	// The ids are the documented ones, and the intake's record is where it was.
	fields, err := c.HKeys(ctx, prefix+"{case}:reg:2025").Result()
	if err != nil {
		t.Fatalf("hkeys: %v", err)
	}
	imp := 0
	for _, f := range fields {
		switch {
		case f == recordField("intake-own"):
		case strings.HasPrefix(f, "imp:") && len(f) > len("imp:")+17:
			imp++
		default:
			t.Errorf("unexpected registry id %q", f)
		}
	}
	if imp != 5 || len(fields) != 6 {
		t.Errorf("ids = %q, want the intake's and 5 imported", fields)
	}
	// An empty import of a source takes its records out again.
	if n, err := s.ImportRecords(ctx, 2025, "faculty-counts.csv", nil); err != nil || n != 2 {
		t.Errorf("empty import: replaced %d, %v; want 2", n, err)
	}
	if recs, _ := s.Records(ctx, 2025); len(recs) != 4 {
		t.Errorf("after the empty import: %d records, want 4", len(recs))
	}
}

func TestImportRecordsRefused(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	ctx := t.Context()
	cases := []struct {
		name   string
		year   int
		source string
		recs   []bot.Record
		says   string
	}{
		{"no source", 2025, "", imported(2025, 1, "other"), "no source"},
		{"no year", 0, "x.csv", nil, "bad year"},
		{"other year", 2025, "x.csv", append(imported(2025, 2, "other"), imported(2024, 1, "other")...), "record 3 is of 2024"},
	}
	for _, c := range cases {
		if _, err := s.ImportRecords(ctx, c.year, c.source, c.recs); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: got %v, want an error saying %q", c.name, err, c.says)
		}
	}
	// A refused import stores nothing, not even its valid part.
	if recs, err := s.Records(ctx, 2025); err != nil || len(recs) != 0 {
		t.Errorf("after refused imports: %d records, %v; want none", len(recs), err)
	}
}

// TestRecordsManyScanned: a year bigger than one HSCAN batch comes back whole, once.
func TestRecordsManyScanned(t *testing.T) {
	t.Parallel()
	s := redistest.New(t, redis.Options{})
	ctx := t.Context()
	const n = 2500
	if _, err := s.ImportRecords(ctx, 2023, "big.csv", imported(2023, n, "inappropriate", "worrying")); err != nil {
		t.Fatalf("import: %v", err)
	}
	recs, err := s.Records(ctx, 2023)
	if err != nil {
		t.Fatalf("records: %v", err)
	}
	if got := categories(recs); len(recs) != n || got["inappropriate"] != n/2 || got["worrying"] != n/2 {
		t.Errorf("%d records %v, want %d split evenly", len(recs), got, n)
	}
}

func TestRecordsCorrupt(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t)
	s := redis.New(c, redis.Options{Prefix: prefix})
	c.HSet(t.Context(), prefix+"{case}:reg:2025", "0123abcd", "{not json")
	if _, err := s.Records(t.Context(), 2025); err == nil || !strings.Contains(err.Error(), "decode record 0123abcd") {
		t.Errorf("corrupt record: got %v, want a decode error naming the id", err)
	}
}
