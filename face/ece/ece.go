// Package ece is the Elastic Cloud Enterprise face: ECE's platform-user API (base path
// /api/v1) as Elastic's own clients — ecctl and github.com/elastic/cloud-sdk-go — call
// it. Users are keyed by user_name, the canonical login name; roles are the core's
// ece_* roles. Like every face it translates and nothing more.
package ece

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"iamd"
)

// Directory is what this face asks of the core's directory.
type Directory interface {
	iamd.UserService
	iamd.SelfService
	iamd.BuiltinUsers
	iamd.ActorLogins
}

// Accounts is what this face asks of the core's accounts: sign-in, tokens, API keys.
type Accounts interface {
	iamd.AccountService
	iamd.Authenticator
	iamd.CredentialService
}

// Config wires the face to the core.
type Config struct {
	Directory Directory
	Accounts  Accounts
	// Instance is the ECE platform: the instance whose users sign in with a user name
	// and password (HTTP Basic, _login). Keys and tokens carry their own instance.
	Instance string
	Logger   *slog.Logger
}

// Face serves the ECE API.
type Face struct {
	dir      Directory
	acct     Accounts
	instance string
	log      *slog.Logger
}

// New returns the face.
func New(cfg Config) (*Face, error) {
	if cfg.Directory == nil || cfg.Accounts == nil {
		return nil, errors.New("ece: the directory and accounts services are required")
	}
	if cfg.Instance == "" {
		return nil, errors.New("ece: the platform's instance is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Face{dir: cfg.Directory, acct: cfg.Accounts, instance: cfg.Instance, log: cfg.Logger}, nil
}

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the face's OpenAPI 3.1 document: Elastic's own, cut to the
// operations served here.
func OpenAPIDocument() []byte { return openAPIDocument }

// ReadOnlyUser is the built-in user every ECE platform has beside admin.
const ReadOnlyUser = "readonly"

// EnsureBuiltinUsers creates the platform's built-in readonly user (an
// ece_platform_viewer) if it is missing; admin is the core's bootstrap administrator.
// Call it after the built-in roles exist.
func (f *Face) EnsureBuiltinUsers(ctx context.Context) error {
	return f.dir.EnsureBuiltinUser(ctx, f.instance, ReadOnlyUser, "Read-only", []string{rolePlatformViewer})
}

// Name is the face's name in --face-addr and metrics.
func (f *Face) Name() string { return "ece" }

// Register adds the face's routes under prefix.
func (f *Face) Register(mux *http.ServeMux, prefix string) {
	base := prefix + "/api/v1"
	mux.HandleFunc("GET "+base+"/api-docs/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPIDocument)
	})
	auth := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+base+path, f.authenticated(h))
	}
	auth("GET /users", f.listUsers)
	auth("POST /users", f.createUser)
	auth("GET /users/{user_name}", f.getUser)
	auth("PATCH /users/{user_name}", f.updateUser)
	auth("DELETE /users/{user_name}", f.deleteUser)
	auth("GET /user", f.getCurrentUser)
	auth("PATCH /user", f.updateCurrentUser)
	mux.HandleFunc("POST "+base+"/users/auth/_login", f.login)
	mux.HandleFunc("POST "+base+"/users/auth/_refresh", f.refresh)
	mux.HandleFunc("POST "+base+"/users/auth/_logout", f.logout)
	mux.HandleFunc("GET "+base+"/users/auth/methods", f.methods)
	auth("GET /users/auth", f.authInfo)
	auth("GET /users/auth/keys", f.listKeys)
	auth("POST /users/auth/keys", f.createKey)
	auth("DELETE /users/auth/keys", f.deleteKeys)
	auth("GET /users/auth/keys/_all", f.listAllKeys)
	auth("DELETE /users/auth/keys/_all", f.deleteAllKeys)
	auth("GET /users/auth/keys/{api_key_id}", f.getKey)
	auth("DELETE /users/auth/keys/{api_key_id}", f.deleteKey)
	auth("GET /users/{user_id}/auth/keys", f.listKeys)
	auth("DELETE /users/{user_id}/auth/keys", f.deleteKeys)
	auth("GET /users/{user_id}/auth/keys/{api_key_id}", f.getKey)
	auth("DELETE /users/{user_id}/auth/keys/{api_key_id}", f.deleteKey)
	mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		f.WriteError(w, r, newError(http.StatusNotFound, CodeNotFound, "The requested resource could not be found."))
	})
}

// errUnauthenticated is ECE's answer to a request without valid credentials.
var errUnauthenticated = newError(http.StatusUnauthorized, CodeUnauthenticated,
	"The supplied authentication is invalid.")

// authenticated accepts what ECE accepts: Basic (a user name and password of the
// platform), ApiKey (an API key or token of the accounts core), and Bearer (a token
// from _login, or an API token).
func (f *Face) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := f.authenticate(r)
		if iamd.ErrorCode(err) == iamd.EUNAUTHENTICATED {
			err = errUnauthenticated
		}
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(iamd.NewContextWithPrincipal(r.Context(), p)))
	})
}

func (f *Face) authenticate(r *http.Request) (*iamd.Principal, error) {
	return f.acct.AuthenticateHeader(r.Context(), r.Header.Get("Authorization"), f.instance, "ApiKey", "Bearer")
}
