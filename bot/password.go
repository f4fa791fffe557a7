package bot

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's recommended configuration (19 MiB, 2 passes, 1 lane). A
// guess costs tens of milliseconds and 19 MiB, so a stolen hash resists offline guessing,
// while a handoff turn and a desk login stay quick on a small host. Receipt passphrases
// carry 80 random bits and would resist even a fast hash; desk passwords are the reason
// for the cost. The parameters are stored in each hash, so they can be raised later.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// Receipt passphrases are drawn at random with 80 bits. Argon2id's cost exists to slow
// guessing of passwords people choose; against 2^80 random candidates it adds nothing that
// matters (even 10^12 SHA-256 guesses a second need about 19,000 years for an even chance),
// while `intake bench` measured the light Argon2id as 76% of all engine CPU in a run of
// complete intakes. So a receipt is kept as a salted SHA-256 ($sha256$salt$hash); hashes
// written by earlier versions (Argon2id) still verify.
const receiptPrefix = "$sha256$"

// HashSecret returns an encoded Argon2id hash of a password a person chose
// ($argon2id$v=19$m=..,t=..,p=..$salt$hash).
func HashSecret(secret string) string { return hashArgon(secret, argonTime, argonMemory) }

// HashReceipt returns a salted SHA-256 hash of a random receipt passphrase.
func HashReceipt(pass string) string {
	salt := make([]byte, 16)
	rand.Read(salt) // never fails (crypto/rand, Go 1.24+)
	return receiptPrefix + base64.RawStdEncoding.EncodeToString(salt) + "$" +
		base64.RawStdEncoding.EncodeToString(receiptSum(salt, pass))
}

func receiptSum(salt []byte, pass string) []byte {
	sum := sha256.Sum256(append(append([]byte{}, salt...), pass...))
	return sum[:]
}

// CheckReceipt reports whether pass matches an encoded receipt hash, in constant time.
// Only receipts take the fast hash: a desk password is checked with CheckSecret alone.
func CheckReceipt(encoded, pass string) bool {
	rest, ok := strings.CutPrefix(encoded, receiptPrefix)
	if !ok {
		return CheckSecret(encoded, pass)
	}
	saltText, sumText, ok := strings.Cut(rest, "$")
	salt, err1 := base64.RawStdEncoding.DecodeString(saltText)
	want, err2 := base64.RawStdEncoding.DecodeString(sumText)
	if !ok || err1 != nil || err2 != nil || len(salt) < 16 || len(want) != sha256.Size {
		return false
	}
	return subtle.ConstantTimeCompare(receiptSum(salt, pass), want) == 1
}

func hashArgon(secret string, time, memory uint32) string {
	salt := make([]byte, 16)
	rand.Read(salt) // never fails (crypto/rand, Go 1.24+)
	key := argon2.IDKey([]byte(secret), salt, time, memory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, time, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckSecret reports whether secret matches an encoded hash, in constant time.
func CheckSecret(encoded, secret string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 || t > 64 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(secret), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewPassphrase returns a receipt passphrase of 16 symbols in four groups (80 random bits),
// from the same unambiguous alphabet as case codes, so it can be written down by hand.
func NewPassphrase() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	var sb strings.Builder
	for i, x := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(codeAlphabet[x&31])
	}
	return strings.ToLower(sb.String())
}
