package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"intake/bot"
)

func b64(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// TestLoadKeys: keys from variables and files, one sealing key or several, and every way a
// key can be missing, malformed or weak, each with a message that says what to do and
// never repeats a key.
func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pepper, k1, k2, k3 := b64(bot.RandomKey()), b64(bot.RandomKey()), b64(bot.RandomKey()), b64(bot.RandomKey())
	zeros, short := b64(make([]byte, 32)), b64(bot.RandomKey()[:16])
	text := b64([]byte("correct horse battery staple 42!"))
	cases := []struct {
		name string
		env  map[string]string
		ids  []byte // the sealing key ids, current first, when it loads
		says string // part of the error, "" when it loads
	}{
		{"nothing set", nil, nil, ""},
		{"one sealing key is id 1", map[string]string{"INTAKE_PEPPER": pepper, "INTAKE_SEAL_KEY": k1}, []byte{1}, ""},
		{"several sealing keys", map[string]string{"INTAKE_PEPPER": pepper, "INTAKE_SEAL_KEYS": "3:" + k3 + ",2:" + k2}, []byte{3, 2}, ""},
		{"spaces and unpadded base64", map[string]string{"INTAKE_SEAL_KEYS": " 3:" + strings.TrimRight(k3, "=") + ", 1:" + k1 + "\n"}, []byte{3, 1}, ""},
		{"pepper from a file", map[string]string{"INTAKE_PEPPER_FILE": file("pepper", pepper+"\n", 0o600)}, nil, ""},
		{"keys from a read-only file, one a line", map[string]string{"INTAKE_SEAL_KEYS_FILE": file("seal", "2:"+k2+"\n1:"+k1+"\n", 0o400)}, []byte{2, 1}, ""},
		{"a weak older key may stay to be rotated away", map[string]string{"INTAKE_SEAL_KEYS": "2:" + k2 + ",1:" + zeros}, []byte{2, 1}, ""},
		{"the pepper may equal an older key", map[string]string{"INTAKE_PEPPER": k1, "INTAKE_SEAL_KEYS": "2:" + k2 + ",1:" + k1}, []byte{2, 1}, ""},

		{"variable and file", map[string]string{"INTAKE_PEPPER": pepper, "INTAKE_PEPPER_FILE": file("p2", pepper, 0o600)}, nil, "INTAKE_PEPPER and INTAKE_PEPPER_FILE are both set"},
		{"both sealing forms", map[string]string{"INTAKE_SEAL_KEY": k1, "INTAKE_SEAL_KEYS": "2:" + k2}, nil, "set only INTAKE_SEAL_KEYS, with the key of INTAKE_SEAL_KEY as id 1"},
		{"not base64", map[string]string{"INTAKE_PEPPER": "this is no key!"}, nil, "INTAKE_PEPPER is not base64; make a good one with `intake keys generate`"},
		{"short pepper", map[string]string{"INTAKE_PEPPER": short}, nil, "INTAKE_PEPPER is 16 bytes, it must be 32"},
		{"all zeros", map[string]string{"INTAKE_SEAL_KEY": zeros}, nil, "INTAKE_SEAL_KEY has the same byte everywhere"},
		{"a password", map[string]string{"INTAKE_PEPPER": text}, nil, "INTAKE_PEPPER is readable text"},
		{"weak current key", map[string]string{"INTAKE_SEAL_KEYS": "2:" + text + ",1:" + k1}, nil, "INTAKE_SEAL_KEYS: key 2 is readable text"},
		{"short older key", map[string]string{"INTAKE_SEAL_KEYS": "2:" + k2 + ",1:" + short}, nil, "INTAKE_SEAL_KEYS: key 1 is 16 bytes"},
		{"pepper is the sealing key", map[string]string{"INTAKE_PEPPER": k1, "INTAKE_SEAL_KEY": k1}, nil, "INTAKE_PEPPER is the same as sealing key 1"},
		{"two sealing keys alike", map[string]string{"INTAKE_SEAL_KEYS": "3:" + k3 + ",2:" + k2 + ",1:" + k3}, nil, "keys 3 and 1 are the same key"},
		{"an id twice", map[string]string{"INTAKE_SEAL_KEYS": "2:" + k2 + ",2:" + k3}, nil, "key id 2 appears twice"},
		{"no id", map[string]string{"INTAKE_SEAL_KEYS": k2}, nil, "entry 1 is not ID:KEY"},
		{"only commas", map[string]string{"INTAKE_SEAL_KEYS": ", ,"}, nil, "INTAKE_SEAL_KEYS holds no key"},
		{"a key where the id goes", map[string]string{"INTAKE_SEAL_KEYS": "2:" + k2 + "," + k3 + ":" + k1}, nil, "entry 2: the key id before ':' must be a number from 1 to 255"},
		{"id 0", map[string]string{"INTAKE_SEAL_KEYS": "0:" + k2}, nil, "from 1 to 255"},
		{"id 256", map[string]string{"INTAKE_SEAL_KEYS": "256:" + k2}, nil, "from 1 to 255"},
		{"key file readable by others", map[string]string{"INTAKE_PEPPER_FILE": file("open", pepper, 0o644)}, nil, "is open to group or others (mode 0644); a key file must be private to the user intake runs as: chmod 600 "},
		{"key file readable by its group", map[string]string{"INTAKE_SEAL_KEY_FILE": file("group", k1, 0o640)}, nil, "chmod 600"},
		{"no such key file", map[string]string{"INTAKE_PEPPER_FILE": filepath.Join(dir, "missing")}, nil, "INTAKE_PEPPER_FILE: open "},
		{"empty key file", map[string]string{"INTAKE_SEAL_KEYS_FILE": file("empty", "\n", 0o600)}, nil, "is empty"},
		{"a folder", map[string]string{"INTAKE_PEPPER_FILE": dir}, nil, "is not a regular file"},
		{"weak key in a file", map[string]string{"INTAKE_SEAL_KEYS_FILE": file("weak", "1:"+zeros, 0o600)}, nil, "INTAKE_SEAL_KEYS_FILE: key 1 has the same byte everywhere"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := loadKeys(func(name string) string { return c.env[name] })
			if c.says == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				ids := make([]byte, len(k.sealKeys))
				for i, s := range k.sealKeys {
					ids[i] = s.id
				}
				if !slices.Equal(ids, c.ids) {
					t.Errorf("sealing key ids %v, want %v", ids, c.ids)
				}
				if (c.env["INTAKE_PEPPER"] != "" || c.env["INTAKE_PEPPER_FILE"] != "") != (len(k.pepper) == bot.KeySize) {
					t.Errorf("pepper of %d bytes", len(k.pepper))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v\nwant it to say %q", err, c.says)
			}
			for name, v := range c.env {
				if strings.HasSuffix(name, "_FILE") {
					content, _ := os.ReadFile(v) // a path may be named; the key in it may not
					v = string(content)
				}
				for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ':' || unicode.IsSpace(r) }) {
					if len(part) >= 8 && strings.Contains(err.Error(), part) {
						t.Errorf("the message repeats a key: %v", err)
					}
				}
			}
		})
	}
}

// FuzzSealKeys: whatever surrounds a key in INTAKE_SEAL_KEYS, no message repeats it.
func FuzzSealKeys(f *testing.F) {
	f.Add("2", []byte("0123456789abcdef0123456789abcdef"), ",1:")
	f.Add("x", []byte{1, 2, 3}, "")
	f.Add("1", make([]byte, 32), "1:AAAA")
	f.Add("300", []byte("correct horse battery staple 42!"), ", ")
	f.Fuzz(func(t *testing.T, id string, key []byte, rest string) {
		enc := b64(key)
		_, err := loadKeys(func(name string) string {
			if name == envSealKeys {
				return id + ":" + enc + rest
			}
			return ""
		})
		if err != nil && len(enc) >= 8 && strings.Contains(err.Error(), enc) {
			t.Fatalf("the message repeats the key: %v", err)
		}
	})
}

// TestKeysGenerateNext: --next adds a key with the next id to the configured ones, and the
// one line it prints as a setting loads with the new key sealing and every old one kept.
func TestKeysGenerateNext(t *testing.T) {
	t.Setenv("INTAKE_PEPPER", "")
	t.Setenv("INTAKE_SEAL_KEYS", "")
	k1 := b64(bot.RandomKey())
	t.Setenv("INTAKE_SEAL_KEY", k1)
	code, out, errOut := call(t, "keys", "generate", "--next")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "INTAKE_SEAL_KEYS=2:") || !strings.HasSuffix(lines[0], ",1:"+k1) ||
		!strings.Contains(out, "remove INTAKE_SEAL_KEY") {
		t.Fatalf("want one setting with key 2 first and key 1 kept:\n%s", out)
	}
	t.Setenv("INTAKE_SEAL_KEY", "")
	t.Setenv("INTAKE_SEAL_KEYS", strings.TrimPrefix(lines[0], "INTAKE_SEAL_KEYS="))
	k, err := loadKeys(os.Getenv)
	if err != nil || len(k.sealKeys) != 2 || k.sealKeys[0].id != 2 || b64(k.sealKeys[1].key) != k1 {
		t.Fatalf("the printed setting does not load as keys 2, 1: %v", err)
	}
	if code, out, _ = call(t, "keys", "generate", "--next"); code != exitOK || !strings.Contains(out, "\nINTAKE_SEAL_KEYS=3:") {
		t.Errorf("the next key after 2 must be 3:\n%s", out)
	}
	t.Setenv("INTAKE_SEAL_KEYS", "")
	if code, _, errOut = call(t, "keys", "generate", "--next"); code != exitInvalid || !strings.Contains(errOut, "not set here") {
		t.Errorf("--next without keys: exit %d: %s", code, errOut)
	}
}

func TestNextKeyID(t *testing.T) {
	all := make([]sealKey, 0, 255)
	for id := 1; id <= 255; id++ {
		all = append(all, sealKey{id: byte(id)})
	}
	cases := []struct {
		keys []sealKey
		want byte
	}{
		{[]sealKey{{id: 1}}, 2},
		{[]sealKey{{id: 7}, {id: 3}}, 8},
		{[]sealKey{{id: 255}, {id: 1}}, 2},
		{all, 0},
	}
	for _, c := range cases {
		if got := nextKeyID(c.keys); got != c.want {
			t.Errorf("after %d keys ending %d: %d, want %d", len(c.keys), c.keys[0].id, got, c.want)
		}
	}
}
