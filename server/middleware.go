package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"iamd"
)

// requestInfo is filled in by the inner handler and read by the outer one: the mux sets
// the matched pattern on the request it is given, which is a copy by then.
type requestInfo struct {
	route string
}

type infoKey struct{}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// wrap applies, outermost first: logging and metrics, panic recovery, the client address,
// the body limit; then the mux, whose matched route it records.
func (s *Server) wrap(mux *http.ServeMux, faceOf func(path string) Face) http.Handler {
	limit := s.cfg.BodyLimit
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		client := r.Context() // done only when the client goes away
		info := &requestInfo{}
		rec := &recorder{ResponseWriter: w}
		face := faceOf(r.URL.Path)
		faceName := "none"
		if face != nil {
			faceName = face.Name()
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "face", faceName, "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeError(face, rec, r, fmt.Errorf("panic: %v", p))
				}
			}
			s.observe(faceName, info.route, r, client.Err() != nil, rec, time.Since(start))
		}()

		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		origin := iamd.Origin{Address: host}
		if face != nil {
			origin.Face = face.Name()
		}
		ctx, cancel := context.WithTimeoutCause(r.Context(), s.cfg.RequestTimeout, errDeadline)
		defer cancel()
		ctx = context.WithValue(iamd.NewContextWithOrigin(ctx, origin), infoKey{}, info)
		if s.cfg.RequestContext != nil {
			ctx = s.cfg.RequestContext(ctx)
		}
		r = r.WithContext(ctx)

		if r.ContentLength > limit {
			writeError(face, rec, r, &iamd.Error{Code: iamd.ETOOLARGE,
				Message: fmt.Sprintf("The request body exceeds the limit of %d bytes.", limit)})
			return
		}
		r.Body = http.MaxBytesReader(rec, r.Body, limit)
		mux.ServeHTTP(rec, r)
		info.route = r.Pattern
	})
}

// observe records metrics and the request log line. Only the path is logged: query
// strings and headers can carry credentials.
func (s *Server) observe(face, route string, r *http.Request, gone bool, rec *recorder, elapsed time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	s.metrics.observe(face, route, status, elapsed)
	level := slog.LevelInfo
	// A client that went away mid-request cancels the work under it; what the handler
	// answers then reaches nobody and is no server fault.
	if status >= 500 && !gone {
		level = slog.LevelError
	}
	s.log.LogAttrs(r.Context(), level, "request",
		slog.Bool("client_gone", gone),
		slog.String("face", face),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int64("bytes", rec.bytes),
		slog.Duration("duration", elapsed),
		slog.String("remote", iamd.SourceFromContext(r.Context())),
	)
}

// errDeadline is the cause of a request context's end when the request timeout passed.
var errDeadline = errors.New("the request timeout passed")

// ClientGone reports whether the client of the request ctx belongs to went away, as
// opposed to the request's deadline passing: work cut short by a departed client is no
// server fault, while a deadline is (the store did not answer in time).
func ClientGone(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), errDeadline)
}
