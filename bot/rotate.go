package bot

import (
	"context"
	"fmt"
	"maps"
)

// ResealFunc returns sealed, a value of kind kept at place, sealed again, or nil to leave
// it as it is. Keyring.Reseal is one.
type ResealFunc func(kind SealedKind, place string, sealed []byte) ([]byte, error)

// SealedStore walks every sealed value in storage, for key rotation.
type SealedStore interface {
	// Reseal hands every sealed value to fn and stores what fn returns in its place, the way
	// the service itself writes there, so it is safe while the service runs. It returns
	// what it found per kind.
	Reseal(ctx context.Context, fn ResealFunc) (map[SealedKind]*SealedCount, error)
}

// SealedCount is what a walk over one kind of sealed value found.
type SealedCount struct {
	// ByKey counts the values by the id of the key they are sealed with at the end.
	ByKey map[byte]int
	// Resealed counts the values sealed again.
	Resealed int
	// Unreadable counts the values that did not open (their key is missing, or they are
	// damaged); they are left as they are.
	Unreadable int
	// Busy counts the values left as they are because they kept changing meanwhile or were
	// being delivered; a later walk takes them.
	Busy int
}

// NewSealedCount returns an empty count.
func NewSealedCount() *SealedCount { return &SealedCount{ByKey: map[byte]int{}} }

// Rotation is what a key rotation (or a check) found.
type Rotation struct {
	// Current is the id of the key everything should be sealed with.
	Current byte
	Kinds   map[SealedKind]*SealedCount
}

// ByKey counts every value by the id of its key.
func (r Rotation) ByKey() map[byte]int {
	all := map[byte]int{}
	for _, c := range r.Kinds {
		for id, n := range c.ByKey {
			all[id] += n
		}
	}
	return all
}

// Old is how many values still use another key than the current one.
func (r Rotation) Old() int {
	n := 0
	for id, count := range r.ByKey() {
		if id != r.Current {
			n += count
		}
	}
	return n
}

// Rotate seals every value in store again with the current key of keys, so the older keys
// can be removed afterwards; with check it only counts. It is safe while the service runs,
// and can be run again after an interruption: values already under the current key are
// only read.
func Rotate(ctx context.Context, store SealedStore, keys *Keyring, check bool) (Rotation, error) {
	fn := keys.Reseal
	if check {
		fn = func(SealedKind, string, []byte) ([]byte, error) { return nil, nil }
	}
	kinds, err := store.Reseal(ctx, fn)
	r := Rotation{Current: keys.Current(), Kinds: maps.Clone(kinds)}
	if r.Kinds == nil {
		r.Kinds = map[SealedKind]*SealedCount{}
	}
	for _, k := range SealedKinds {
		if r.Kinds[k] == nil {
			r.Kinds[k] = NewSealedCount()
		}
	}
	if err != nil {
		return r, fmt.Errorf("rotate keys: %w", err)
	}
	return r, nil
}
