// Package ncloud is the NAVER Cloud Single Sign-On face: the SSO user API v1 under
// /api/v1, signed with API Gateway signature v2, in NAVER Cloud's wire and error shapes,
// over the directory core. It translates and nothing more; the rules live in the core.
package ncloud

import (
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"iamd"
	"iamd/account"
)

// Config wires the face to the core.
type Config struct {
	Directory Directory
	Accounts  Accounts         // signatures, sessions
	Now       func() time.Time // nil → time.Now
	Skew      time.Duration    // 0 → account.DefaultSkew: the 5 minutes the gateway allows
	Logger    *slog.Logger
}

// Directory is what this face asks of the core's directory.
type Directory interface {
	iamd.UserService
	iamd.GroupService
	iamd.TagService
}

// Accounts is what this face asks of the core's accounts.
type Accounts interface {
	iamd.Authenticator
	iamd.SessionAdmin
}

// Face serves the SSO user API.
type Face struct {
	cfg  Config
	dir  Directory
	acct Accounts
	log  *slog.Logger
}

// New returns the face.
func New(cfg Config) (*Face, error) {
	if cfg.Directory == nil || cfg.Accounts == nil {
		return nil, errors.New("ncloud: the directory and the accounts service are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Skew <= 0 {
		cfg.Skew = account.DefaultSkew
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Face{cfg: cfg, dir: cfg.Directory, acct: cfg.Accounts, log: cfg.Logger}, nil
}

// Name is the face's name in --face-addr and metrics.
func (f *Face) Name() string { return "ncloud" }

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the face's OpenAPI 3.1 document.
func OpenAPIDocument() []byte { return openAPIDocument }

// BasePath is where the API sits under the face's prefix, as on NAVER Cloud's gateway.
const BasePath = "/api/v1"

// Register adds the face's routes under prefix.
func (f *Face) Register(mux *http.ServeMux, prefix string) {
	base := prefix + BasePath
	signed := func(pattern, path string, h http.HandlerFunc) {
		mux.Handle(pattern+" "+base+path, f.authenticated(h))
	}
	signed("GET", "/users", f.listUsers)
	signed("POST", "/users", f.createUser)
	signed("GET", "/users/check-login-id", f.checkLoginID)
	signed("POST", "/users/delete", f.batch(f.deleteOne))
	signed("POST", "/users/enable", f.batch(f.setStatus(iamd.UserActive)))
	signed("POST", "/users/disable", f.batch(f.setStatus(iamd.UserSuspended)))
	signed("POST", "/users/bulk", f.bulkCreate)
	signed("GET", "/users/{userId}/access-rules", f.getAccessRules)
	signed("PUT", "/users/{userId}/access-rules", f.putAccessRules)
	signed("GET", "/users/{userId}/profiles", f.getProfile)
	signed("GET", "/users/{userId}/groups", f.userGroups)
	signed("POST", "/users/{userId}/groups", f.changeGroups(true))
	signed("POST", "/users/{userId}/groups/delete", f.changeGroups(false))
	signed("GET", "/users/{userId}/groups/{groupId}", f.userGroup)
	signed("GET", "/groups", f.listGroups)
	signed("POST", "/groups", f.createGroup)
	signed("GET", "/groups/{groupId}", f.getGroup)
	signed("GET", "/groups/{groupId}/users", f.groupUsers)
	signed("GET", "/users/{userId}/sessions", f.userSessions)
	signed("POST", "/users/{userId}/sessions/expire", f.expireSessions)
	signed("GET", "/users/{userId}/mfa-devices", f.mfaDevices)
	signed("DELETE", "/users/{userId}/mfa-devices", f.resetMFA)
	signed("GET", "/users/{userId}/tags", f.userTags)
	signed("POST", "/users/{userId}/tags", f.putTags)
	signed("POST", "/users/{userId}/tags/delete", f.deleteTags)
	signed("GET", "/users/{userId}", f.getUser)
	signed("PUT", "/users/{userId}", f.updateUser)
	signed("DELETE", "/users/{userId}", f.deleteUser)
	mux.HandleFunc("GET "+base+"/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPIDocument)
	})
	mux.HandleFunc(prefix+"/", f.notFound)
}
