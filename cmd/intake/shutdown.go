package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// parts are the goroutines a running service waits for when it stops, by name, so a stop
// that runs out of time can say what it cut off.
type parts struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	running map[string]int
	// cut names the parts that ended by cutting their own work short (an HTTP server
	// closing the connections its grace did not see finish).
	cut map[string]bool
}

// cutOff notes that part name ended by cutting work short.
func (p *parts) cutOff(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut == nil {
		p.cut = map[string]bool{}
	}
	p.cut[name] = true
}

// Go runs f as the part name.
func (p *parts) Go(name string, f func()) {
	p.mu.Lock()
	if p.running == nil {
		p.running = map[string]int{}
	}
	p.running[name]++
	p.mu.Unlock()
	p.wg.Go(func() {
		defer func() {
			p.mu.Lock()
			if p.running[name]--; p.running[name] == 0 {
				delete(p.running, name)
			}
			p.mu.Unlock()
		}()
		f()
	})
}

// Wait waits up to grace for every part to end and returns the names of those still
// running then or cut short (none: a clean stop).
func (p *parts) Wait(grace time.Duration) []string {
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cut := maps.Clone(p.cut)
	for name := range p.running {
		if cut == nil {
			cut = map[string]bool{}
		}
		cut[name] = true
	}
	if len(cut) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(cut))
}

// serveHTTP serves h on addr until ctx ends. Then it stops taking connections and lets the
// requests in flight finish within grace, as the part name of p; whatever still runs
// after that is cut. failed receives the error when the server stops on its own.
func serveHTTP(ctx context.Context, p *parts, name, addr string, h http.Handler, grace time.Duration) (bound string, failed <-chan error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fail := make(chan error, 1)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			fail <- err
		}
	}()
	p.Go(name, func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if srv.Shutdown(shut) != nil {
			p.cutOff(name)
			srv.Close()
		}
	})
	return ln.Addr().String(), fail, nil
}

// streamsEndOnStop ends event streams (the web chat's live counsellor messages) as soon as
// the service stops, instead of letting them hold the stop for the whole grace: the
// browser reconnects by itself, to a replica that runs, and a message not yet written
// stays in the outbox for it. Other requests finish normally.
func streamsEndOnStop(stopping context.Context, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			stop := context.AfterFunc(stopping, cancel)
			defer stop()
			r = r.WithContext(ctx)
		}
		h.ServeHTTP(w, r)
	})
}
