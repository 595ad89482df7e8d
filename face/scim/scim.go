package scim

import (
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"iamd"
)

// Directory is what this face asks of the core's directory.
type Directory interface {
	iamd.UserService
	iamd.SelfService
	iamd.GroupService
}

// Config wires the face to the core.
type Config struct {
	Directory Directory
	Accounts  iamd.Authenticator
	// Instance is where HTTP Basic signs in; bearer tokens carry their own instance.
	Instance string
	Logger   *slog.Logger
	// BulkMaxPayload is the largest /Bulk body, advertised as maxPayloadSize; 0 is
	// DefaultBulkMaxPayload. The server's body limit must not be lower.
	BulkMaxPayload int64
}

// Face serves SCIM 2.0.
type Face struct {
	dir            Directory
	acct           iamd.Authenticator
	instance       string
	log            *slog.Logger
	bulkMaxPayload int64
	bulkMux        *http.ServeMux
}

// New returns the face.
func New(cfg Config) (*Face, error) {
	if cfg.Directory == nil || cfg.Accounts == nil || cfg.Instance == "" {
		return nil, errors.New("scim: the directory, the accounts service and an instance are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BulkMaxPayload <= 0 {
		cfg.BulkMaxPayload = DefaultBulkMaxPayload
	}
	f := &Face{dir: cfg.Directory, acct: cfg.Accounts, instance: cfg.Instance, log: cfg.Logger, bulkMaxPayload: cfg.BulkMaxPayload}
	f.bulkMux = f.bulkRoutes()
	return f, nil
}

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the face's OpenAPI 3.1 document.
func OpenAPIDocument() []byte { return openAPIDocument }

// Name is the face's name in --face-addr and metrics.
func (f *Face) Name() string { return "scim" }

// Register adds the face's routes under prefix.
func (f *Face) Register(mux *http.ServeMux, prefix string) {
	auth := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+prefix+path, f.authenticated(prefix, h))
	}
	auth("GET /Users", f.listUsers)
	auth("POST /Users", f.createUser)
	auth("POST /Users/.search", f.searchUsers)
	auth("POST /.search", f.searchRoot)
	auth("GET /Users/{id}", f.getUser)
	auth("PUT /Users/{id}", f.replaceUser)
	auth("PATCH /Users/{id}", f.patchUser)
	auth("DELETE /Users/{id}", f.deleteUser)
	auth("GET /Groups", f.listGroups)
	auth("POST /Groups", f.createGroup)
	auth("POST /Groups/.search", f.searchGroups)
	auth("GET /Groups/{id}", f.getGroup)
	auth("PUT /Groups/{id}", f.replaceGroup)
	auth("PATCH /Groups/{id}", f.patchGroup)
	auth("DELETE /Groups/{id}", f.deleteGroup)
	auth("POST /Bulk", f.bulk)
	// /Me is the authenticated user's own resource (RFC 7644 §3.11), with the caller's
	// privileges: reading oneself needs none, changing oneself what changing any user does.
	me := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			r.SetPathValue("id", iamd.PrincipalFromContext(r.Context()).UserID)
			h(w, r)
		}
	}
	auth("GET /Me", f.getMe)
	auth("PUT /Me", me(f.replaceUser))
	auth("PATCH /Me", me(f.patchUser))
	auth("DELETE /Me", me(f.deleteUser))
	// Discovery needs no credentials (RFC 7644 §4 lets it be public): provisioners read it
	// while being set up.
	public := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" "+prefix+path, func(w http.ResponseWriter, r *http.Request) {
			h(w, r.WithContext(withBase(r.Context(), r, prefix)))
		})
	}
	mux.HandleFunc("GET "+prefix+"/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPIDocument)
	})
	public("GET /ServiceProviderConfig", f.serviceProviderConfig)
	public("GET /ResourceTypes", f.resourceTypes)
	public("GET /ResourceTypes/{id}", f.resourceTypes)
	public("GET /Schemas", f.schemas)
	public("GET /Schemas/{id}", f.schemas)
	// A query of the server root (RFC 7644 §3.4.2.1) spans every resource type.
	auth("GET /{$}", f.listRoot)
	if prefix != "" {
		auth("GET ", f.listRoot)
	}
	// Clients differ in how they write a path: a trailing slash, or a resource type in
	// another case (/users). Such a path is served as its canonical spelling.
	mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		if path, ok := canonicalPath(prefix, r.URL.EscapedPath()); ok {
			u, err := url.Parse(path)
			if err == nil {
				r = r.Clone(r.Context())
				r.URL.Path, r.URL.RawPath = u.Path, u.RawPath
				mux.ServeHTTP(w, r)
				return
			}
		}
		f.WriteError(w, r, newError(http.StatusNotFound, "", "No such resource: "+r.Method+" "+r.URL.Path))
	})
	// Mounted as …/v2, the face answers the other protocol versions' paths with
	// invalidVers (RFC 7644 §3.12), so that a client set up for SCIM 1.1 learns why.
	if root, ok := strings.CutSuffix(prefix, "/v2"); ok && root != "" {
		mux.HandleFunc(root+"/", func(w http.ResponseWriter, r *http.Request) {
			version, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, root+"/"), "/")
			if len(version) >= 2 && (version[0] == 'v' || version[0] == 'V') && strings.Trim(version[1:], "0123456789.") == "" {
				f.WriteError(w, r, newError(http.StatusBadRequest, TypeInvalidVers,
					"SCIM protocol version "+version+" is not supported; this server speaks 2.0 at "+prefix+"."))
				return
			}
			f.WriteError(w, r, newError(http.StatusNotFound, "", "No such resource: "+r.Method+" "+r.URL.Path))
		})
	}
}

// endpoints are the resource types and endpoints under the face's root, as RFC 7644
// spells them.
var endpoints = []string{"Users", "Groups", "Me", "Bulk", "ServiceProviderConfig", "ResourceTypes", "Schemas", ".search"}

// canonicalPath is an escaped path (under prefix) with its trailing slash dropped and its
// endpoint and .search segments spelled as RFC 7644 spells them; the other segments stay
// as sent. ok is false when that changes nothing, so that a path already canonical is
// not served twice, and for a path with a dot segment, which is never rewritten.
func canonicalPath(prefix, escaped string) (string, bool) {
	rest, found := strings.CutPrefix(escaped, prefix+"/")
	rest = strings.TrimSuffix(rest, "/")
	if !found || rest == "" {
		return "", false
	}
	segments := strings.Split(rest, "/")
	for _, seg := range segments {
		if decoded, err := url.PathUnescape(seg); err != nil || decoded == "." || decoded == ".." {
			return "", false
		}
	}
	if name := spelled(endpoints, segments[0]); name != "" {
		segments[0] = name
	}
	if len(segments) == 2 && strings.EqualFold(segments[1], ".search") {
		segments[1] = ".search"
	}
	canonical := prefix + "/" + strings.Join(segments, "/")
	return canonical, canonical != escaped
}

// authenticated accepts Authorization: Bearer <API token> (what provisioners send) and
// HTTP Basic with a password of the face's instance.
func (f *Face) authenticated(prefix string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := f.authenticate(r)
		if err != nil {
			if iamd.ErrorCode(err) == iamd.EUNAUTHENTICATED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="iamd"`)
			}
			f.WriteError(w, r, err)
			return
		}
		ctx := iamd.NewContextWithPrincipal(r.Context(), p)
		next.ServeHTTP(w, r.WithContext(withBase(ctx, r, prefix)))
	})
}

func (f *Face) authenticate(r *http.Request) (*iamd.Principal, error) {
	return f.acct.AuthenticateHeader(r.Context(), r.Header.Get("Authorization"), f.instance, "Bearer")
}
