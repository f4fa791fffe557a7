package bot

import (
	"crypto/rand"
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

// Receipt passphrases are drawn at random with 80 bits, so guessing one from its hash is
// out of reach whatever the hash costs; a light Argon2id (8 MiB, 1 pass, about 10 ms here)
// keeps the handoff turn quick when many students finish at once, where the desk-password
// cost made the slowest handoffs wait seconds in `intake bench`.
const (
	receiptTime   = 1
	receiptMemory = 8 * 1024
)

// HashSecret returns an encoded Argon2id hash of a password a person chose
// ($argon2id$v=19$m=..,t=..,p=..$salt$hash).
func HashSecret(secret string) string { return hashArgon(secret, argonTime, argonMemory) }

// HashReceipt returns an encoded Argon2id hash of a random receipt passphrase.
func HashReceipt(pass string) string { return hashArgon(pass, receiptTime, receiptMemory) }

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
