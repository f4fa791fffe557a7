package redis

import (
	"encoding/json"
	"reflect"
	"testing"

	"intake/bot"
)

// recordSamples are records as Go writes them and as the close script's cjson re-encodes
// them (other key order, "\/" escapes, null for an empty map), and near misses.
var recordSamples = []string{
	`{"y":2025,"m":3,"ch":"telegram","kind":"handoff","f":{"category":"stalking","relation":"student_student"}}`,
	`{"y":2025,"m":3,"ch":"telegram","kind":"handoff","f":{"category":"stalking"},"followup":"advice"}`,
	`{"f":{"category":"sexual_violence","sv_kind":"physical"},"kind":"handoff","ch":"web","m":12,"y":2026,"followup":"guidance"}`,
	`{"y":2024,"m":0,"ch":"teams","kind":"import","f":null}`,
	`{"y":2024,"kind":"import","f":{}}`,
	`{}`,
	` { "y" : 2024 , "f" : { "a" : "b" } } `,
	`{"y":2024,"ch":"a\/b","f":{"x":"\u00e9"}}`,
	`{"y":2024,"ch":"é","f":{"x":"ü"}}`,
	`{"y":2024,"ch":"\xff"}`,
	`{"y":2024,"y":2025}`,
	`{"y":2024,"f":{"a":"1","a":"2"}}`,
	`{"Y":2024}`,
	`{"y":2024.0}`,
	`{"y":-1}`,
	`{"y":0123}`,
	`{"y":99999999999}`,
	`{"y":"2024"}`,
	`{"y":2024,"x":1}`,
	`{"y":2024,}`,
	`{"y":2024} x`,
	`{"y":2024,"f":{"a":1}}`,
	`{"ch":null}`,
	`[]`,
	``,
}

func TestDecodeRecordSamples(t *testing.T) {
	fast := 0
	for _, s := range recordSamples {
		checkDecode(t, []byte(s))
		var r bot.Record
		if fastRecord(s, &r, nil) {
			fast++
		}
	}
	if fast < 8 {
		t.Errorf("only %d samples took the fast path", fast)
	}
}

// FuzzDecodeRecord: decodeRecord agrees with json.Unmarshal on any input.
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range recordSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecode(t, b) })
}

func checkDecode(t *testing.T, b []byte) {
	t.Helper()
	var want bot.Record
	wantErr := json.Unmarshal(b, &want)
	for _, intern := range []map[string]string{nil, {"stalking": "stalking"}} {
		var got bot.Record
		gotErr := decodeRecord(string(b), &got, intern)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: error %v, json.Unmarshal says %v", b, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decoded %#v, json.Unmarshal %#v", b, got, want)
		}
	}
}

// BenchmarkDecodeRecord compares the fast path with encoding/json on a typical record.
func BenchmarkDecodeRecord(b *testing.B) {
	rec := string(`{"y":2026,"m":3,"ch":"chat","kind":"import","f":{"category":"stalking","faculty":"fhml","gender":"man","relation":"unknown","reporter":"third_other"},"followup":"intervention"}`)
	b.Run("fast", func(b *testing.B) {
		var r bot.Record
		intern := map[string]string{}
		for b.Loop() {
			_ = decodeRecord(rec, &r, intern)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		var r bot.Record
		for b.Loop() {
			r = bot.Record{}
			_ = json.Unmarshal([]byte(rec), &r)
		}
	})
}
