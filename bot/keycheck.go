package bot

import (
	"errors"
	"fmt"
)

// minDistinctBytes is the fewest different byte values CheckKey accepts. 32 random bytes
// hold about 30 different values; fewer than 16 happens by chance far less than once in
// 10^12 keys, while keys typed or derived by hand (a word repeated, a hex string, a date)
// fall below it.
const minDistinctBytes = 16

// CheckKey says what makes key unfit as a pepper or a sealing key, or returns nil. A good
// key is KeySize bytes from a cryptographic random source, as `intake keys generate`
// makes. The message never repeats any byte of the key, so it can be logged and printed;
// it reads after the key's name ("INTAKE_PEPPER " + err).
//
// The checks catch keys a person made rather than a random source: all bytes the same, a
// short pattern repeated, few different byte values, or only printable characters (the
// base64 of a password or a hex string). A random key passes them all except with a
// probability below 10^-12.
func CheckKey(key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("is %d bytes, it must be %d", len(key), KeySize)
	}
	if p := period(key); p == 1 {
		return errors.New("has the same byte everywhere")
	} else if p <= KeySize/2 {
		return fmt.Errorf("repeats a pattern of %d bytes", p)
	}
	var seen [256]bool
	distinct := 0
	text := true
	for _, b := range key {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
		if b < 0x20 || b > 0x7e {
			text = false
		}
	}
	if distinct < minDistinctBytes {
		return fmt.Errorf("has only %d different byte values, where random bytes have about 30", distinct)
	}
	if text {
		return errors.New("is readable text, not random bytes (the base64 of a password or of a hex string?)")
	}
	return nil
}

// period returns the length of the shortest pattern key repeats (len(key) when none).
func period(key []byte) int {
	for p := 1; p < len(key); p++ {
		repeats := true
		for i := p; i < len(key); i++ {
			if key[i] != key[i-p] {
				repeats = false
				break
			}
		}
		if repeats {
			return p
		}
	}
	return len(key)
}
