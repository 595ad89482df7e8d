// Package server runs iamd's HTTP listeners: every face under its prefix on the main
// listener, optionally a face at the root of a listener of its own, and the operational
// endpoints /healthz, /readyz and /metrics. It applies what every request gets whatever
// its face: a body limit, panic recovery, the client address for audit, metrics and a
// structured log line that never carries a secret.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"iamd"
)

// DefaultBodyLimit caps request bodies unless configured otherwise.
const DefaultBodyLimit = 1 << 20

// DefaultRequestTimeout is a request's deadline unless configured otherwise: well under
// the listener's write timeout, so that the client hears the 503.
const DefaultRequestTimeout = 30 * time.Second

// Mount places a face under a path prefix of the main listener ("/scp").
type Mount struct {
	Prefix string
	Face   Face
}

// Config configures a Server.
type Config struct {
	Addr      string            // main listener, e.g. 127.0.0.1:8080
	Mounts    []Mount           // faces on the main listener
	FaceAddrs map[string]string // face name → address of a listener serving it at the root
	Ready     func(ctx context.Context) error
	Logger    *slog.Logger
	BodyLimit int64 // 0 → DefaultBodyLimit
	// ShutdownTimeout bounds how long in-flight requests may take to finish.
	ShutdownTimeout time.Duration
	// RequestTimeout is each request's deadline (0 → DefaultRequestTimeout): a store that
	// stops answering costs a request this long at most, and it then gets a 503.
	RequestTimeout time.Duration
	// DebugAddr, when set, serves Go's runtime profiles (net/http/pprof) on a listener
	// of their own, so that they are never reachable through a face's port.
	DebugAddr string
	// RequestContext, when set, derives each request's context before any face sees it
	// (the store's read scope: iamd.ReadScoper).
	RequestContext func(context.Context) context.Context
}

// ReadScope returns the RequestContext that gives each request store's read scope, when
// store has one (iamd.ReadScoper), and nil otherwise.
func ReadScope(store any) func(context.Context) context.Context {
	if s, ok := store.(iamd.ReadScoper); ok {
		return s.ScopeReads
	}
	return nil
}

// Server is the set of listeners.
type Server struct {
	cfg       Config
	log       *slog.Logger
	metrics   *metrics
	listeners []*listener
}

type listener struct {
	name string // "main" or the face's name
	addr string
	ln   net.Listener
	http *http.Server
}

// New builds the handlers; Listen then opens the sockets.
func New(cfg Config) (*Server, error) {
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Ready == nil {
		cfg.Ready = func(context.Context) error { return nil }
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newMetrics()}
	byName := map[string]Face{}
	for _, m := range cfg.Mounts {
		if m.Prefix == "" || !strings.HasPrefix(m.Prefix, "/") || strings.HasSuffix(m.Prefix, "/") {
			return nil, fmt.Errorf("face %s: prefix %q must start with '/' and not end with one", m.Face.Name(), m.Prefix)
		}
		byName[m.Face.Name()] = m.Face
	}
	s.listeners = append(s.listeners, &listener{name: "main", addr: cfg.Addr, http: s.newHTTPServer(s.mainHandler())})
	for name, addr := range cfg.FaceAddrs {
		f, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("--face-addr %s=%s: no face named %q", name, addr, name)
		}
		s.listeners = append(s.listeners, &listener{name: name, addr: addr, http: s.newHTTPServer(s.faceHandler(f))})
	}
	if cfg.DebugAddr != "" {
		srv := s.newHTTPServer(debugHandler())
		srv.WriteTimeout = 0 // a CPU profile streams for as long as it was asked to run
		s.listeners = append(s.listeners, &listener{name: "debug", addr: cfg.DebugAddr, http: srv})
	}
	return s, nil
}

func (s *Server) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       max(60*time.Second, s.cfg.RequestTimeout+10*time.Second),
		// Past the request deadline, so that a request cut short still gets its answer.
		WriteTimeout:   max(60*time.Second, s.cfg.RequestTimeout+10*time.Second),
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// mainHandler serves every mounted face under its prefix plus the operational endpoints.
func (s *Server) mainHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writePlainJSON(w, http.StatusOK, `{"status":"ok"}`)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			writePlainJSON(w, http.StatusServiceUnavailable, `{"status":"unavailable"}`)
			return
		}
		writePlainJSON(w, http.StatusOK, `{"status":"ready"}`)
	})
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writePlainJSON(w, http.StatusNotFound, `{"error":"not found"}`)
	})
	for _, m := range s.cfg.Mounts {
		m.Face.Register(mux, m.Prefix)
	}
	mounts := s.cfg.Mounts
	faceOf := func(path string) Face {
		for _, m := range mounts {
			if path == m.Prefix || strings.HasPrefix(path, m.Prefix+"/") {
				return m.Face
			}
		}
		return nil
	}
	return s.wrap(mux, faceOf)
}

// debugHandler serves the runtime profiles of net/http/pprof under /debug/pprof/.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// faceHandler serves one face at the root of its own listener.
func (s *Server) faceHandler(f Face) http.Handler {
	mux := http.NewServeMux()
	f.Register(mux, "")
	return s.wrap(mux, func(string) Face { return f })
}

// Listen opens every listener, so that a port in use is reported before serving starts.
func (s *Server) Listen() error {
	for _, l := range s.listeners {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen %s (%s): %w", l.addr, l.name, err)
		}
		l.ln = ln
	}
	return nil
}

func (s *Server) closeListeners() {
	for _, l := range s.listeners {
		if l.ln != nil {
			l.ln.Close()
		}
	}
}

// Addrs maps each listener's name ("main" or a face's name) to its bound address.
func (s *Server) Addrs() map[string]string {
	out := map[string]string{}
	for _, l := range s.listeners {
		if l.ln != nil {
			out[l.name] = l.ln.Addr().String()
		}
	}
	return out
}

// Serve serves until ctx ends, then stops accepting, lets in-flight requests finish
// (up to the shutdown timeout) and returns.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, len(s.listeners))
	for _, l := range s.listeners {
		s.log.Info("listening", "listener", l.name, "addr", l.ln.Addr().String())
		go func() {
			if err := l.http.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s listener: %w", l.name, err)
			}
		}()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(s.listeners))
	for i, l := range s.listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = l.http.Shutdown(shutdownCtx)
		}()
	}
	wg.Wait()
	return errors.Join(append(errs, serveErr)...)
}

func writePlainJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, body)
}

// writeError answers err in the shape of the face that owns the path, or in plain JSON.
func writeError(f Face, w http.ResponseWriter, r *http.Request, err error) {
	if f != nil {
		f.WriteError(w, r, err)
		return
	}
	status := http.StatusInternalServerError
	switch {
	case iamd.ErrorCode(err) == iamd.ETOOLARGE:
		status = http.StatusRequestEntityTooLarge
	case Unavailable(w, err):
		status = http.StatusServiceUnavailable
	}
	writePlainJSON(w, status, fmt.Sprintf(`{"error":%q}`, iamd.ErrorMessage(err)))
}
