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
