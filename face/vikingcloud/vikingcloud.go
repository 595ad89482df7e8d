// Package vikingcloud is the VikingCloud Portal face: user-service v1 (users, roles,
// privileges) and a token API in VikingCloud's wire shapes and Spring Boot's error
// shape, over the directory and accounts core. It translates and nothing more; the rules
// live in the core.
package vikingcloud

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"iamd"
)

// Config wires the face to the core.
type Config struct {
	Directory Directory
	Accounts  Accounts
	// Instance is where the token API signs users in; tokens carry their own instance.
	Instance string
	Logger   *slog.Logger
	Now      func() time.Time // nil → time.Now; error timestamps
}

// Directory is what this face asks of the core's directory.
type Directory interface {
	iamd.UserService
	iamd.RoleService
}

// Accounts is what this face asks of the core's accounts: the token API.
type Accounts interface {
	iamd.AccountService
	iamd.Authenticator
	iamd.IDTokenService
	iamd.RefreshTokenService
}

// Face serves VikingCloud's user-service.
type Face struct {
	cfg  Config
	dir  Directory
	acct Accounts
	log  *slog.Logger
}

// New returns the face.
func New(cfg Config) (*Face, error) {
	if cfg.Directory == nil || cfg.Accounts == nil || cfg.Instance == "" {
		return nil, errors.New("vikingcloud: the directory, the accounts service and an instance are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Face{cfg: cfg, dir: cfg.Directory, acct: cfg.Accounts, log: cfg.Logger}, nil
}

// Name is the face's name in --face-addr and metrics.
func (f *Face) Name() string { return "vikingcloud" }

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the face's OpenAPI 3.1 document.
func OpenAPIDocument() []byte { return openAPIDocument }

// methods are those a route may allow, in the order an Allow header lists them.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// Register adds the face's routes under prefix. A path the face serves, asked with a
// method it does not take, answers 405 with an Allow header, as Spring does; any other
// path 404.
func (f *Face) Register(mux *http.ServeMux, prefix string) {
	routes := http.NewServeMux() // the face's routes alone: which methods a path takes
	handle := func(pattern string, h http.Handler) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+prefix+path, h)
		routes.Handle(method+" "+prefix+path, h)
	}
	auth := func(pattern string, h http.HandlerFunc) { handle(pattern, f.authenticated(h)) }
	// Create is PUT and update is POST, as VikingCloud has them.
	auth("PUT /user-service/v1/user", f.createUser)
	auth("POST /user-service/v1/user", f.updateUser)
	auth("POST /user-service/v1/user/search", f.searchUsers)
	auth("GET /user-service/v1/user/{authenticator}/{username}", f.findUser)
	auth("DELETE /user-service/v1/user/{authenticator}/{username}", f.deleteUser)
	auth("POST /user-service/v1/role", f.saveRole)
	auth("GET /user-service/v1/role", f.listRoles)
	auth("GET /user-service/v1/privilege", f.listPrivileges)
	handle("POST /auth-service/v1/token", http.HandlerFunc(f.token))
	handle("POST /auth-service/v1/token/refresh", http.HandlerFunc(f.refresh))
	handle("GET /v3/api-docs", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPIDocument)
	}))
	mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowed(routes, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ","))
			f.writeError(w, r, http.StatusMethodNotAllowed, "Request method '"+r.Method+"' is not supported")
			return
		}
		f.writeError(w, r, http.StatusNotFound, "No endpoint "+r.Method+" "+r.URL.Path+".")
	})
}

// allowed lists the methods routes take on r's path: none when it serves no such path.
func allowed(routes *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := routes.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	return allow
}

// credentialHeaders are where VikingCloud's clients send credentials: the token guide
// sends Authorization: Bearer <idToken>, the token overview the access token as
// x-jwt-assertion, the generated samples an API token as x-auth-token. Clients differ,
// so each header takes each token.
var credentialHeaders = []string{"Authorization", "x-jwt-assertion", "x-auth-token"}

// authenticated lets through a request whose every credential holds: an access token
// (a session from the token API), its ID token, or an API token, in any of
// credentialHeaders, and HTTP Basic in Authorization. Credentials sent together must
// name one user and, where they are a sign-in's tokens, one session; the caller is the
// most restricted of them.
func (f *Face) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := f.authenticate(r)
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(iamd.NewContextWithPrincipal(r.Context(), p)))
	})
}

func (f *Face) authenticate(r *http.Request) (*iamd.Principal, error) {
	var caller *iamd.Principal
	for _, h := range credentialHeaders {
		value := r.Header.Get(h)
		if value == "" {
			continue
		}
		var p *iamd.Principal
		var err error
		if scheme, token, _ := strings.Cut(value, " "); h != "Authorization" {
			p, err = f.bearer(r.Context(), strings.TrimSpace(value))
		} else if strings.EqualFold(scheme, "Bearer") {
			p, err = f.bearer(r.Context(), strings.TrimSpace(token))
		} else {
			p, err = f.acct.AuthenticateHeader(r.Context(), value, f.cfg.Instance) // Basic
		}
		switch {
		case err != nil:
			return nil, err
		case caller == nil:
			caller = p
		case p.InstanceID != caller.InstanceID || p.UserID != caller.UserID ||
			p.SessionID != "" && caller.SessionID != "" && p.SessionID != caller.SessionID:
			return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "The credentials sent name different users or sign-ins: "+
				"send one, or the access token and ID token of one sign-in.")
		case p.PasswordChangeOnly || caller.SessionID == "" && !caller.PasswordChangeOnly:
			caller = p // a sign-in's caller rather than a key's; one that may only change its password above all
		}
	}
	if caller == nil {
		return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "Full authentication is required: send Authorization: Bearer, x-jwt-assertion or x-auth-token.")
	}
	return caller, nil
}

// bearer checks a token wherever it came: an ID token (a JWT) or an access or API token.
func (f *Face) bearer(ctx context.Context, token string) (*iamd.Principal, error) {
	if strings.Count(token, ".") == 2 {
		p, err := f.acct.AuthenticateIDToken(ctx, token)
		if iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
			return p, err
		}
		// Not an ID token of ours: an API token may hold dots too.
	}
	return f.acct.AuthenticateToken(ctx, token)
}
