// Package scp is the Samsung Cloud Platform IAM Identity Center face: SCP's wire shapes,
// request signing, API versions and error shape over the directory core. It translates
// and nothing more; the rules live in the core.
package scp

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"iamd"
	"iamd/account"
)

// Config wires the face to the core.
type Config struct {
	Users  iamd.UserService
	Groups iamd.GroupService
	Auth   iamd.Authenticator
	Now    func() time.Time // nil → time.Now
	Skew   time.Duration    // 0 → account.DefaultSkew
	// VersionPolicy decides what happens to a request naming a version whose Not Before
	// date has arrived (by Now): "enforce" (default, SCP's behaviour) refuses it with 400
	// UnsupportedApiVersion, "warn" serves it with Deprecation and Sunset headers.
	VersionPolicy string
	Logger        *slog.Logger
	// Baseline adds GET /v1/bench-noop, which checks the signature and does nothing else:
	// iamd bench measures the face's fixed cost against it. Off outside benchmarks.
	Baseline bool
}

// Face serves the SCP IAM Identity Center API.
type Face struct {
	cfg Config
	log *slog.Logger
}

// New returns the face.
func New(cfg Config) (*Face, error) {
	if cfg.Users == nil || cfg.Groups == nil || cfg.Auth == nil {
		return nil, errors.New("scp: Users, Groups and Auth are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Skew <= 0 {
		cfg.Skew = account.DefaultSkew
	}
	switch cfg.VersionPolicy {
	case "":
		cfg.VersionPolicy = PolicyEnforce
	case PolicyWarn, PolicyEnforce:
	default:
		return nil, fmt.Errorf("scp: version policy must be %q or %q", PolicyEnforce, PolicyWarn)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Face{cfg: cfg, log: cfg.Logger}, nil
}

// Name is the face's name in --face-addr and metrics.
func (f *Face) Name() string { return "scp" }

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the face's OpenAPI 3.1 document.
func OpenAPIDocument() []byte { return openAPIDocument }

// Register adds the face's routes under prefix.
func (f *Face) Register(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("GET "+prefix+"/{$}", f.listVersions)
	if prefix != "" {
		mux.HandleFunc("GET "+prefix, f.listVersions)
	}
	mux.HandleFunc("GET "+prefix+"/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPIDocument)
	})
	api := func(pattern string, h func(http.ResponseWriter, *http.Request)) {
		method, path, _ := cut(pattern)
		mux.Handle(method+" "+prefix+path, f.versioned(f.authenticated(http.HandlerFunc(h))))
	}
	if f.cfg.Baseline {
		api("GET /v1/bench-noop", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
		})
	}
	api("POST /v1/users", f.createUser)
	api("GET /v1/users", f.listUsers)
	api("DELETE /v1/users", f.deleteUsers)
	api("GET /v1/users/{user_uuid}", f.showUser)
	api("PATCH /v1/users/{user_uuid}", f.setUser)
	api("DELETE /v1/users/{user_uuid}", f.deleteUser)
	api("POST /v1/groups", f.createGroup)
	api("GET /v1/groups", f.listGroups)
	api("GET /v1/groups/{group_id}", f.showGroup)
	api("DELETE /v1/groups/{group_id}", f.deleteGroup)
	api("POST /v1/groups/{group_id}/users", f.addGroupUsers)
	api("DELETE /v1/groups/{group_id}/users", f.removeGroupUsers)
	mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		f.WriteError(w, r, iamd.Errorf(iamd.ENOTFOUND, "No such resource: %s %s.", r.Method, r.URL.Path))
	})
}

func cut(pattern string) (method, path string, ok bool) {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == ' ' {
			return pattern[:i], pattern[i+1:], true
		}
	}
	return "", pattern, false
}
