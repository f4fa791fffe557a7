package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"sync"
	"time"
)

// This file holds what the desk and the student chat share: security headers, form tokens,
// capped form bodies, embedded assets and the memory of used form nonces. One piece of code
// for both, so a fix to one is a fix to the other.

// MaxFormBytes caps every request body the desk and the chat read. A message is at most
// bot.DefaultMaxText characters; even in 4-byte runes, percent-encoded, that fits.
const MaxFormBytes = 64 << 10

// securityHeaders sets the headers every page of ours carries: the page's own CSP, no
// referrer to anywhere, no sniffing, no framing, and no copy in any cache.
func securityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// formToken is the CSRF token of the forms of a secret the browser holds in an HttpOnly
// cookie (a desk login token, a chat session secret): an HMAC keyed with the secret. Only a
// page served to the holder of the cookie can contain it; it needs no storage, holds on
// every replica, and dies with the secret. purpose keeps the desk's and the chat's tokens
// apart.
func formToken(secret, purpose string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sameToken compares a token from a form with the expected one in constant time.
func sameToken(a, b string) bool { return a != "" && hmac.Equal([]byte(a), []byte(b)) }

// formError is why a capped form could not be read.
type formError int

const (
	formOK formError = iota
	formTooBig
	formUnreadable
)

// readForm parses a request body of at most MaxFormBytes.
func readForm(w http.ResponseWriter, r *http.Request) formError {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	err := r.ParseForm()
	if err == nil {
		return formOK
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return formTooBig
	}
	return formUnreadable
}

// asset is an embedded file served with an ETag. Assets hold nothing private, so they may
// be cached, but are revalidated (no-cache) so a new release shows at once.
type asset struct {
	name, ctype string
	body        []byte
	tag         string
}

func mustAsset(fsys fs.FS, path, name, ctype string) asset {
	body, err := fs.ReadFile(fsys, path)
	if err != nil {
		panic(err) // embedded: cannot be missing
	}
	sum := sha256.Sum256(body)
	return asset{name: name, ctype: ctype, body: body, tag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

func (a asset) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", a.tag)
	w.Header().Set("Content-Type", a.ctype)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}

// --- double submission -----------------------------------------------------------------

// formNonces remembers the nonces of forms that went through, so a form submitted twice (a
// double click, a resent POST) acts once. The memory is per process and bounded: behind a
// load balancer a double submit that lands on two replicas is not caught, and when more
// than maxNonces forms were sent within nonceTTL the oldest are forgotten early (catching a
// double submit is a courtesy, never a security check).
type formNonces struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	swept time.Time
}

const (
	nonceTTL  = time.Hour
	maxNonces = 100_000
)

func newFormNonces() *formNonces { return &formNonces{seen: map[string]time.Time{}} }

// reserve claims key; false when it was used (or is in use) already.
func (n *formNonces) reserve(key string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if now.Sub(n.swept) > time.Minute || len(n.seen) >= maxNonces {
		n.swept = now
		for k, at := range n.seen {
			if now.Sub(at) > nonceTTL {
				delete(n.seen, k)
			}
		}
		for k := range n.seen { // still full: forget arbitrary ones (map order is random)
			if len(n.seen) < maxNonces {
				break
			}
			delete(n.seen, k)
		}
	}
	if at, ok := n.seen[key]; ok && now.Sub(at) <= nonceTTL {
		return false
	}
	n.seen[key] = now
	return true
}

// forget frees key after a failed action, so the corrected form can be sent.
func (n *formNonces) forget(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.seen, key)
}

func newNonce() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}
