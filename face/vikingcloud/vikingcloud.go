// Package vikingcloud is the VikingCloud Portal face: user-service v1 (users, roles,
// privileges) and a token API in VikingCloud's wire shapes and Spring Boot's error
// shape, over the directory and accounts core. It translates and nothing more; the rules
// live in the core.
package vikingcloud

import (
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"iamd"
	"iamd/account"
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
var credentialHeaders = []string{"Authorization", assertionHeader, "x-auth-token"}

// assertionHeader is also where an API gateway (WSO2's, say) puts a JWT of its own.
const assertionHeader = "x-jwt-assertion"

// authenticated lets through a request whose every credential holds: an access token
// (a session from the token API), its ID token, or an API token, in any of
// credentialHeaders, and HTTP Basic in Authorization. Credentials sent together must
// name one user and, where they are a sign-in's tokens, one session; the caller is the
// most restricted of them (see iamd.Together). A JWT in x-jwt-assertion that is not iamd's
// is a gateway's, not a credential: it is ignored.
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
	gateway := false // an x-jwt-assertion that is someone else's JWT came
	for _, h := range credentialHeaders {
		value := strings.TrimSpace(r.Header.Get(h))
		if value == "" {
			continue
		}
		var p *iamd.Principal
		var err error
		if scheme, token, _ := strings.Cut(value, " "); h != "Authorization" {
			if h == assertionHeader && isJWT(value) && !account.IsIDToken(value) {
				gateway = true
				continue
			}
			p, err = f.bearer(r.Context(), value)
		} else if strings.EqualFold(scheme, "Bearer") {
			p, err = f.bearer(r.Context(), strings.TrimSpace(token))
		} else {
			p, err = f.acct.AuthenticateHeader(r.Context(), value, f.cfg.Instance) // Basic
		}
		switch {
		case iamd.ErrorCode(err) == iamd.EUNAUTHENTICATED:
			return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "The credential in %s was refused: %s", h, iamd.ErrorMessage(err))
		case err != nil:
			return nil, err
		}
		if caller, err = iamd.Together(caller, p); err != nil {
			return nil, err
		}
	}
	switch {
	case caller == nil && gateway:
		return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "Full authentication is required: the x-jwt-assertion sent is not iamd's "+
			"(an API gateway's?); send an iamd token in Authorization: Bearer, x-jwt-assertion or x-auth-token.")
	case caller == nil:
		return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "Full authentication is required: send Authorization: Bearer, x-jwt-assertion or x-auth-token.")
	}
	return caller, nil
}

// isJWT reports whether token is a JWS in compact form: three parts, the first a JSON
// object naming its algorithm.
func isJWT(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	var header struct {
		Alg string `json:"alg"`
	}
	return err == nil && json.Unmarshal(raw, &header) == nil && header.Alg != ""
}

// bearer checks a token wherever it came: iamd's ID token (a JWT of iamd's) or an
// access or API token. A token shaped as iamd's ID token is that or nothing: it is never
// looked up as an API token.
func (f *Face) bearer(ctx context.Context, token string) (*iamd.Principal, error) {
	if account.IsIDToken(token) {
		return f.acct.AuthenticateIDToken(ctx, token)
	}
	return f.acct.AuthenticateToken(ctx, token)
}
