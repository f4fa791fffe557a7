package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"intake/bot"
)

// The key variables. Each can instead name a file holding its value, NAME_FILE, for
// Docker and systemd secrets; setting both is refused.
const (
	envPepper = "INTAKE_PEPPER"
	// envSealKeys is the sealing keys as ID:KEY, separated by commas (or white space in
	// a file), the first one sealing and the others only opening: "2:BASE64,1:BASE64".
	envSealKeys = "INTAKE_SEAL_KEYS"
	// envSealKey is one sealing key with id 1, the form from before key rotation; it
	// means the same as INTAKE_SEAL_KEYS=1:KEY.
	envSealKey = "INTAKE_SEAL_KEY"
)

// maxKeyFile bounds what is read from a key file: a key list is a few hundred bytes.
const maxKeyFile = 16 << 10

// keyHint ends every message about a missing or weak key.
const keyHint = "make a good one with `intake keys generate`"

// sealKey is one sealing key and its id, the first byte of everything it seals.
type sealKey struct {
	id  byte
	key []byte
}

// keyConfig is the pepper and the sealing keys, and where they came from.
type keyConfig struct {
	pepper []byte
	// sealKeys are the sealing keys, the current one (which seals) first.
	sealKeys []sealKey
	// pepperFrom and sealFrom name the variable each was read from ("" for throwaway
	// keys); pepperFile and sealFile are the file when it was a _FILE variable.
	pepperFrom, sealFrom string
	pepperFile, sealFile string
}

// loadKeys reads the keys named in the environment (getenv), from the variables or their
// files. A key that is not set stays empty (serve refuses to start, see requireKeys; dev
// makes a throwaway one); a key that is set must be good, see bot.CheckKey. Older sealing
// keys, which only open what they sealed before, are exempt from the checks of how random
// they look, so a weak key can still be rotated away. No error repeats a key.
func loadKeys(getenv func(string) string) (keyConfig, error) {
	var k keyConfig
	v, from, file, err := secret(getenv, envPepper)
	if err != nil {
		return k, err
	}
	if v != "" {
		if k.pepper, err = decodeKey(from, v, true); err != nil {
			return k, err
		}
		k.pepperFrom, k.pepperFile = from, file
	}
	one, oneFrom, oneFile, err := secret(getenv, envSealKey)
	if err != nil {
		return k, err
	}
	list, listFrom, listFile, err := secret(getenv, envSealKeys)
	if err != nil {
		return k, err
	}
	switch {
	case one != "" && list != "":
		return k, fmt.Errorf("%s and %s are both set: set only %s, with the key of %s as id 1 (%s=2:NEW,1:OLD)",
			oneFrom, listFrom, envSealKeys, envSealKey, envSealKeys)
	case one != "":
		key, err := decodeKey(oneFrom, one, true)
		if err != nil {
			return k, err
		}
		k.sealKeys, k.sealFrom, k.sealFile = []sealKey{{1, key}}, oneFrom, oneFile
	case list != "":
		if k.sealKeys, err = parseSealKeys(listFrom, list); err != nil {
			return k, err
		}
		k.sealFrom, k.sealFile = listFrom, listFile
	}
	for i, s := range k.sealKeys {
		// The pepper may equal an older key for the same reason older keys may be weak.
		if i == 0 && bytes.Equal(s.key, k.pepper) {
			return k, fmt.Errorf("%s is the same as sealing key %d: the pepper and the sealing keys must be different keys; add a new sealing key with `intake keys generate --next`", k.pepperFrom, s.id)
		}
		for _, t := range k.sealKeys[:i] {
			if bytes.Equal(s.key, t.key) {
				return k, fmt.Errorf("%s: keys %d and %d are the same key; every sealing key must be a different one (%s)", k.sealFrom, t.id, s.id, keyHint)
			}
		}
	}
	return k, nil
}

// secret returns the value of the variable name or of the file named by name_FILE, with
// the name it came from and the file ("" when from the variable itself).
func secret(getenv func(string) string, name string) (value, from, file string, err error) {
	v, file := strings.TrimSpace(getenv(name)), strings.TrimSpace(getenv(name+"_FILE"))
	switch {
	case v != "" && file != "":
		return "", "", "", fmt.Errorf("%s and %s_FILE are both set: set only one of them", name, name)
	case file == "":
		return v, name, "", nil
	}
	from = name + "_FILE"
	v, err = readKeyFile(from, file)
	return v, from, file, err
}

// readKeyFile reads a key file, refusing one that others than its owner may read or
// change: a key any other account on the machine can read is no longer kept apart from
// the data it protects, and one it can change lets it choose the key.
func readKeyFile(from, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", from, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%s: %w", from, err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s: %s is not a regular file", from, path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return "", fmt.Errorf("%s: %s is open to group or others (mode %04o); a key file must be private to the user intake runs as: chmod 600 %s",
			from, path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", from, err)
	}
	if len(b) > maxKeyFile {
		return "", fmt.Errorf("%s: %s is larger than %d KiB; it should hold only the key", from, path, maxKeyFile>>10)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s: %s is empty", from, path)
	}
	return v, nil
}

// parseSealKeys reads "ID:KEY,ID:KEY" (commas or white space between), the first key
// the current one.
func parseSealKeys(from, v string) ([]sealKey, error) {
	entries := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s holds no key; write the keys as %s=2:BASE64,1:BASE64, the current one first", from, envSealKeys)
	}
	var keys []sealKey
	for n, e := range entries {
		idText, keyText, ok := strings.Cut(e, ":")
		if !ok {
			return nil, fmt.Errorf("%s: entry %d is not ID:KEY; write the keys as %s=2:BASE64,1:BASE64, the current one first", from, n+1, envSealKeys)
		}
		id, err := strconv.Atoi(idText)
		if err != nil || id < 1 || id > 255 {
			return nil, fmt.Errorf("%s: entry %d: the key id before ':' must be a number from 1 to 255", from, n+1)
		}
		if slices.ContainsFunc(keys, func(k sealKey) bool { return k.id == byte(id) }) {
			return nil, fmt.Errorf("%s: key id %d appears twice; every sealing key needs its own id", from, id)
		}
		key, err := decodeKey(fmt.Sprintf("%s: key %d", from, id), keyText, n == 0)
		if err != nil {
			return nil, err
		}
		keys = append(keys, sealKey{byte(id), key})
	}
	return keys, nil
}

// decodeKey decodes a base64 key (standard or URL alphabet, padded or not) of
// bot.KeySize bytes; strict also applies bot.CheckKey. The message names the key (what)
// and says what is wrong, never what the key is.
func decodeKey(what, v string, strict bool) ([]byte, error) {
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(v); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s is not base64; %s", what, keyHint)
	}
	if len(key) != bot.KeySize {
		return nil, fmt.Errorf("%s is %d bytes, it must be %d; %s", what, len(key), bot.KeySize, keyHint)
	}
	if strict {
		if err := bot.CheckKey(key); err != nil {
			return nil, fmt.Errorf("%s %v; %s", what, err, keyHint)
		}
	}
	return key, nil
}

// requireKeys refuses to go on without a pepper and a sealing key (serve, keys rotate).
func (k keyConfig) requireKeys() error {
	var missing []string
	if k.pepper == nil {
		missing = append(missing, envPepper)
	}
	if len(k.sealKeys) == 0 {
		missing = append(missing, envSealKeys)
	}
	if len(missing) == 0 {
		return nil
	}
	files := "its _FILE variable, naming a file that holds it"
	if len(missing) > 1 {
		files = "their _FILE variables, naming files that hold them"
	}
	return fmt.Errorf("%s must be set (or %s): without them nobody's conversation is safe to store. "+
		"Make them once with `intake keys generate`, keep them secret and keep them the same across restarts",
		strings.Join(missing, " and "), files)
}

// throwaway fills in a random pepper and sealing key where none is set, for `intake dev`
// and `intake chat` on their own, and reports whether it made any.
func (k *keyConfig) throwaway() bool {
	made := false
	if k.pepper == nil {
		k.pepper, k.pepperFrom, made = bot.RandomKey(), "", true
	}
	if len(k.sealKeys) == 0 {
		k.sealKeys, k.sealFrom, made = []sealKey{{1, bot.RandomKey()}}, "", true
	}
	return made
}

// throwawayKeys returns fresh random keys, for tools that store nothing that outlives them.
func throwawayKeys() keyConfig {
	var k keyConfig
	k.throwaway()
	return k
}

// keys builds the pseudonym function and the keyring from the configured keys.
func (k keyConfig) keys() (*bot.Pseudonyms, *bot.Keyring, error) {
	p, err := bot.NewPseudonyms(k.pepper)
	if err != nil {
		return nil, nil, err
	}
	ring, err := k.keyring()
	if err != nil {
		return nil, nil, err
	}
	return p, ring, nil
}

// keyring returns the sealing keys as a keyring sealing with the first.
func (k keyConfig) keyring() (*bot.Keyring, error) {
	if len(k.sealKeys) == 0 {
		return nil, fmt.Errorf("no sealing key is set: set %s (or %s_FILE) as the service has it", envSealKeys, envSealKeys)
	}
	m := map[byte][]byte{}
	for _, s := range k.sealKeys {
		m[s.id] = s.key
	}
	return bot.NewKeyring(m, k.sealKeys[0].id)
}

// sealKeysValue renders the sealing keys as INTAKE_SEAL_KEYS takes them.
func sealKeysValue(keys []sealKey) string {
	parts := make([]string, len(keys))
	for i, s := range keys {
		parts[i] = fmt.Sprintf("%d:%s", s.id, base64.StdEncoding.EncodeToString(s.key))
	}
	return strings.Join(parts, ",")
}

// env renders the variables that give another process the same keys, as `intake dev`
// prints them for `intake chat`: a key read from a file by its file, any other by value.
func (k keyConfig) env() string {
	pepper := envPepper + "=" + base64.StdEncoding.EncodeToString(k.pepper)
	if k.pepperFile != "" {
		pepper = k.pepperFrom + "=" + k.pepperFile
	}
	seal := envSealKeys + "=" + sealKeysValue(k.sealKeys)
	if k.sealFile != "" {
		seal = k.sealFrom + "=" + k.sealFile
	}
	return pepper + " " + seal
}
