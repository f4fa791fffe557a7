package bot_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"intake/bot"
)

func TestPseudonymsAreKeyedAndStable(t *testing.T) {
	p1, err := bot.NewPseudonyms(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := bot.NewPseudonyms(bytes.Repeat([]byte{2}, 32))
	a := p1.Key("telegram", "123456789")
	if a != p1.Key("telegram", "123456789") {
		t.Error("the same user must get the same key")
	}
	if a == p2.Key("telegram", "123456789") {
		t.Error("another pepper must give another key")
	}
	if a == p1.Key("discord", "123456789") {
		t.Error("the same id on another channel must give another key")
	}
	if strings.Contains(a, "123456789") {
		t.Error("the key contains the platform id")
	}
	if _, err := bot.NewPseudonyms([]byte("short")); err == nil {
		t.Error("a short pepper must be refused")
	}
}

func TestKeyringSealsAndRotates(t *testing.T) {
	k1 := bytes.Repeat([]byte{7}, 32)
	k2 := bytes.Repeat([]byte{9}, 32)
	old, _ := bot.NewKeyring(map[byte][]byte{1: k1}, 1)
	sealed := old.Seal([]byte("het verhaal"), []byte("ctx"))
	if bytes.Contains(sealed, []byte("verhaal")) {
		t.Fatal("sealed value contains the plain text")
	}
	rotated, err := bot.NewKeyring(map[byte][]byte{1: k1, 2: k2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := rotated.Open(sealed, []byte("ctx"))
	if err != nil || string(plain) != "het verhaal" {
		t.Fatalf("old value after rotation: %q, %v", plain, err)
	}
	if fresh := rotated.Seal([]byte("x"), nil); fresh[0] != 2 {
		t.Errorf("new values must use the current key id, got %d", fresh[0])
	}
	cases := map[string][]byte{
		"other context": nil,
		"tampered":      append(append([]byte{}, sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1),
		"unknown key":   append([]byte{5}, sealed[1:]...),
		"too short":     sealed[:3],
		"empty":         {},
	}
	for name, v := range cases {
		ctx := []byte("ctx")
		if name == "other context" {
			v, ctx = sealed, []byte("other")
		}
		if _, err := rotated.Open(v, ctx); !errors.Is(err, bot.ErrUnsealed) {
			t.Errorf("%s: got %v, want ErrUnsealed", name, err)
		}
	}
	if _, err := bot.NewKeyring(map[byte][]byte{1: []byte("short")}, 1); err == nil {
		t.Error("a short key must be refused")
	}
}

func TestCaseCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		c := bot.NewCaseCode()
		if len(c) != 9 || c[4] != '-' || strings.ContainsAny(c, "01IO") {
			t.Fatalf("bad code %q", c)
		}
		if seen[c] {
			t.Fatalf("code %q repeated in 2000 draws", c)
		}
		seen[c] = true
	}
}

// TestCheckKeyRefusesHandMadeKeys: keys a person typed or derived are refused with a
// reason that never shows the key; random keys pass.
func TestCheckKeyRefusesHandMadeKeys(t *testing.T) {
	half := bot.RandomKey()[:16]
	cases := []struct {
		name string
		key  []byte
		says string // "" for a good key
	}{
		{"random", bot.RandomKey(), ""},
		{"short", bot.RandomKey()[:16], "is 16 bytes, it must be 32"},
		{"long", append(bot.RandomKey(), 1), "is 33 bytes"},
		{"zeros", make([]byte, 32), "the same byte everywhere"},
		{"one byte repeated", bytes.Repeat([]byte{0xa7}, 32), "the same byte everywhere"},
		{"pattern of 3", bytes.Repeat([]byte{0x81, 0xfe, 0x09}, 11)[:32], "repeats a pattern of 3 bytes"},
		{"pattern of 16", append(append([]byte{}, half...), half...), "repeats a pattern of 16 bytes"},
		{"few values", []byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0b"), "only 12 different byte values"},
		{"a passphrase", []byte("correct horse battery staple 42!"), "readable text"},
		{"a hex string", []byte("9f86d081884c7d659a2feaa0c55ad015"), "different byte values"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := bot.CheckKey(c.key)
			if c.says == "" {
				if err != nil {
					t.Fatalf("a good key refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want it to say %q", err, c.says)
			}
			if len(c.key) >= 8 && strings.Contains(err.Error(), string(c.key[:8])) {
				t.Errorf("the message repeats the key: %v", err)
			}
		})
	}
}

// TestResealMovesValuesToTheCurrentKey: an old value comes back sealed with the current
// key and still bound to its place; a current one is left alone; one that does not open is
// ErrUnsealed.
func TestResealMovesValuesToTheCurrentKey(t *testing.T) {
	k1, k2 := bot.RandomKey(), bot.RandomKey()
	old, _ := bot.NewKeyring(map[byte][]byte{1: k1}, 1)
	both, _ := bot.NewKeyring(map[byte][]byte{1: k1, 2: k2}, 2)
	only2, _ := bot.NewKeyring(map[byte][]byte{2: k2}, 2)
	if got := both.IDs(); !bytes.Equal(got, []byte{1, 2}) || both.Current() != 2 {
		t.Fatalf("ids %v, current %d", got, both.Current())
	}

	story := []byte("Het gebeurde na de borrel.")
	sealed := old.Seal(story, []byte("story:ABCD-EFGH"))
	fresh, err := both.Reseal(bot.SealedStory, "ABCD-EFGH", sealed)
	if err != nil || bot.KeyID(fresh) != 2 {
		t.Fatalf("reseal: key %d, %v", bot.KeyID(fresh), err)
	}
	if plain, err := only2.Open(fresh, []byte("story:ABCD-EFGH")); err != nil || !bytes.Equal(plain, story) {
		t.Fatalf("the re-sealed story does not open with key 2 alone: %q, %v", plain, err)
	}
	if _, err := only2.Open(fresh, []byte("story:WXYZ-2345")); err == nil {
		t.Error("the re-sealed story opens at another case")
	}
	if again, err := both.Reseal(bot.SealedStory, "ABCD-EFGH", fresh); again != nil || err != nil {
		t.Errorf("a value under the current key must be left alone: %v, %v", again, err)
	}
	if _, err := both.Reseal(bot.SealedEntry, "ABCD-EFGH", sealed); !errors.Is(err, bot.ErrUnsealed) {
		t.Errorf("a story read as a thread entry: %v, want ErrUnsealed", err)
	}
	if _, err := only2.Reseal(bot.SealedStory, "ABCD-EFGH", sealed); !errors.Is(err, bot.ErrUnsealed) {
		t.Errorf("a value whose key is gone: %v, want ErrUnsealed", err)
	}
	if _, err := both.Reseal("diary", "ABCD-EFGH", sealed); err == nil {
		t.Error("an unknown kind must be refused")
	}
	if _, err := bot.NewKeyring(map[byte][]byte{0: k1}, 0); err == nil {
		t.Error("key id 0 must be refused: it is what an empty value reads as")
	}
}
