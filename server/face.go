package server

import (
	"log/slog"
	"net/http"
	"strconv"

	"iamd"
)

// Face is one vendor API adapter. Faces satisfy it without importing this package.
type Face interface {
	// Name is the face's short name ("scp"), used in --face-addr and in metrics.
	Name() string
	// Register adds the face's routes to mux under prefix ("/scp" on the main listener,
	// "" at the root of the face's own listener). Patterns keep the prefix so that
	// r.Pattern names the route for metrics; the face answers unknown paths under the
	// prefix in its own error shape.
	Register(mux *http.ServeMux, prefix string)
	// WriteError answers err (a domain error) in the face's own wire shape. The server
	// uses it for what it rejects before the face runs, such as an oversized body.
	WriteError(w http.ResponseWriter, r *http.Request, err error)
}

// Unavailable reports whether err is a store that cannot be reached for now, and then
// sets Retry-After on w: faces answer it with 503 in their own shape.
func Unavailable(w http.ResponseWriter, err error) bool {
	if iamd.ErrorCode(err) != iamd.EUNAVAILABLE {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(iamd.RetryAfterSeconds))
	return true
}

// LogInternalError is how faces log an error they answer as internal: at error level,
// unless the client went away, whose cancellation is then the "error" and is logged at
// debug. The request line itself is logged by the server, with client_gone.
func LogInternalError(log *slog.Logger, r *http.Request, err error) {
	level := slog.LevelError
	if ClientGone(r.Context()) {
		level = slog.LevelDebug
	}
	log.Log(r.Context(), level, "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
}
