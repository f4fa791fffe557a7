package bot

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
)

// KeySize is the length of the pepper and of each sealing key, in bytes.
const KeySize = 32

// ErrUnsealed means a sealed value could not be opened: wrong key, unknown key id, or
// tampered bytes.
var ErrUnsealed = errors.New("cannot open sealed value")

// Pseudonyms turns a platform user id into the conversation key. The pepper lives only in
// the environment, so a copy of Redis alone cannot be matched back to accounts by hashing
// known ids (EDPB 01/2025: a keyed function with the secret kept apart).
type Pseudonyms struct {
	pepper []byte
}

// NewPseudonyms returns Pseudonyms for a pepper of at least KeySize bytes.
func NewPseudonyms(pepper []byte) (*Pseudonyms, error) {
	if len(pepper) < KeySize {
		return nil, fmt.Errorf("pepper is %d bytes, want at least %d (make one with `intake keys generate`)", len(pepper), KeySize)
	}
	return &Pseudonyms{pepper: append([]byte(nil), pepper...)}, nil
}

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Key returns HMAC-SHA-256(pepper, channel ":" userID), base32 encoded.
func (p *Pseudonyms) Key(channel, userID string) string {
	m := hmac.New(sha256.New, p.pepper)
	m.Write([]byte(channel))
	m.Write([]byte{':'})
	m.Write([]byte(userID))
	return keyEncoding.EncodeToString(m.Sum(nil))
}

// Keyring seals values with AES-256-GCM. Every sealed value starts with the id of its key,
// so keys can be rotated: new values use the current key, old ones still open.
type Keyring struct {
	current byte
	aeads   map[byte]cipher.AEAD
}

// NewKeyring returns a keyring whose current key is keys[current].
func NewKeyring(keys map[byte][]byte, current byte) (*Keyring, error) {
	k := &Keyring{current: current, aeads: map[byte]cipher.AEAD{}}
	for id, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("sealing key %d is %d bytes, want %d (make one with `intake keys generate`)", id, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("sealing key %d: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("sealing key %d: %w", id, err)
		}
		k.aeads[id] = aead
	}
	if k.aeads[current] == nil {
		return nil, fmt.Errorf("no sealing key with id %d", current)
	}
	return k, nil
}

// Seal encrypts plain; context binds the result to its place (e.g. the conversation key),
// so a sealed value copied to another record does not open there.
func (k *Keyring) Seal(plain, context []byte) []byte {
	aead := k.aeads[k.current]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = k.current
	if _, err := rand.Read(out[1:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the OS has no randomness: nothing is safe to store
	}
	return aead.Seal(out, out[1:1+aead.NonceSize()], plain, context)
}

// Open decrypts a value made by Seal with the same context.
func (k *Keyring) Open(sealed, context []byte) ([]byte, error) {
	if len(sealed) < 1 {
		return nil, ErrUnsealed
	}
	aead := k.aeads[sealed[0]]
	if aead == nil || len(sealed) < 1+aead.NonceSize()+aead.Overhead() {
		return nil, ErrUnsealed
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[1:1+n], sealed[1+n:], context)
	if err != nil {
		return nil, ErrUnsealed
	}
	return plain, nil
}

// RandomKey returns KeySize random bytes, for throwaway dev keys and `intake keys generate`.
func RandomKey() []byte {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return b
}
