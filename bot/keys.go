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
	"maps"
	"slices"
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

// NewKeyring returns a keyring whose current key is keys[current]. It checks only the
// length of each key, so tests may use simple ones; keys from outside go through CheckKey
// first.
func NewKeyring(keys map[byte][]byte, current byte) (*Keyring, error) {
	k := &Keyring{current: current, aeads: map[byte]cipher.AEAD{}}
	for id, key := range keys {
		if id == 0 {
			// KeyID answers 0 for an empty value, which must never look sealed.
			return nil, errors.New("sealing key id 0 is reserved; ids run from 1 to 255")
		}
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

// Current returns the id of the key new values are sealed with.
func (k *Keyring) Current() byte { return k.current }

// IDs returns the ids of the keys in the ring, lowest first.
func (k *Keyring) IDs() []byte {
	return slices.Sorted(maps.Keys(k.aeads))
}

// KeyID returns the id of the key a value was sealed with: its first byte (0 for an empty
// value; no key has id 0).
func KeyID(sealed []byte) byte {
	if len(sealed) == 0 {
		return 0
	}
	return sealed[0]
}

// Reseal returns sealed, a value of kind kept at place, sealed again with the current key,
// or nil when it already uses the current key (it is not opened then, so a damaged value
// under the current key passes unnoticed). ErrUnsealed when it does not open: its key is
// not in the ring, or it was damaged or moved.
func (k *Keyring) Reseal(kind SealedKind, place string, sealed []byte) ([]byte, error) {
	if _, ok := sealPrefixes[kind]; !ok {
		return nil, fmt.Errorf("reseal: unknown kind %q", kind)
	}
	if KeyID(sealed) == k.current {
		return nil, nil
	}
	context := sealContext(kind, place)
	plain, err := k.Open(sealed, context)
	if err != nil {
		return nil, err
	}
	return k.Seal(plain, context), nil
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
