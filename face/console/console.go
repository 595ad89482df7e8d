// Package console is iamd's web console for administrators: server-rendered pages
// (html/template) over the same core calls as every face, with a little script for
// search-as-you-type. Everything it serves is in the binary; nothing is fetched at run
// time. Like a face it translates — forms to core calls, domain errors to pages — and
// decides nothing.
package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"iamd"
	"iamd/account"
	"iamd/server"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

const (
	sessionCookie = "iamd_console"
	signInCookie  = "iamd_console_signin" // the sign-in form's double-submitted CSRF token
	// contentSecurityPolicy allows the console's own script and style and nothing else:
	// no inline script, no framing, no form posting elsewhere.
	contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

// Config configures the console.
type Config struct {
	Accounts  *account.Service
	Directory iamd.Administration
	// Instance is the instance the sign-in form offers first.
	Instance string
	Logger   *slog.Logger
}

// Face serves the console.
type Face struct {
	acct   *account.Service
	dir    iamd.Administration
	inst   string
	log    *slog.Logger
	pages  map[string]*template.Template
	prefix string
}

// New returns the console.
func New(cfg Config) (*Face, error) {
	if cfg.Accounts == nil || cfg.Directory == nil {
		return nil, errors.New("console: the accounts service and the directory are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	f := &Face{acct: cfg.Accounts, dir: cfg.Directory, inst: cfg.Instance, log: cfg.Logger, pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		page := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if page == "layout" || page == "partials" {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFiles, "templates/layout.html",
			"templates/partials.html", name)
		if err != nil {
			return nil, err
		}
		f.pages[page] = t
	}
	return f, nil
}

// Name is the console's name in --face-addr, metrics and the audit trail.
func (f *Face) Name() string { return "console" }

var templateFuncs = template.FuncMap{
	"when": func(t any) string {
		switch t := t.(type) {
		case time.Time:
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if t == nil {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return ""
	},
	"join": strings.Join,
	"list": func(items []string) string {
		if len(items) == 0 {
			return "none"
		}
		return strings.Join(items, ", ")
	},
	"days":    func(d time.Duration) int64 { return int64(d / (24 * time.Hour)) },
	"minutes": func(d time.Duration) int64 { return int64(d / time.Minute) },
	"locked": func(u *iamd.User) bool {
		return u.LockedUntil != nil && u.LockedUntil.After(time.Now())
	},
}

// Register adds the console's routes under prefix.
func (f *Face) Register(mux *http.ServeMux, prefix string) {
	f.prefix = prefix
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET "+prefix+"/static/", f.secured(http.StripPrefix(prefix+"/static/", http.FileServerFS(static))))
	mux.Handle("GET "+prefix+"/{$}", f.secured(http.HandlerFunc(f.home)))
	mux.Handle("GET "+prefix+"/sign-in", f.secured(http.HandlerFunc(f.signInForm)))
	mux.Handle("POST "+prefix+"/sign-in", f.secured(http.HandlerFunc(f.signIn)))
	mux.Handle("POST "+prefix+"/sign-out", f.secured(f.session(f.signOut, true)))
	mux.Handle("GET "+prefix+"/password", f.secured(f.session(f.passwordForm, true)))
	mux.Handle("POST "+prefix+"/password", f.secured(f.session(f.changePassword, true)))
	page := func(pattern string, h func(w http.ResponseWriter, r *http.Request, s *visit)) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+prefix+path, f.secured(f.session(h, false)))
	}
	page("GET /instances", f.instancesPage)
	page("POST /instances", f.createInstance)
	const in = "/instances/{instance_id}"
	page("GET "+in+"/users", f.usersPage)
	page("GET "+in+"/users/rows", f.userRows)
	page("GET "+in+"/users/new", f.newUserForm)
	page("POST "+in+"/users", f.createUser)
	page("GET "+in+"/users/{user_id}", f.userPage)
	page("POST "+in+"/users/{user_id}", f.editUser)
	page("POST "+in+"/users/{user_id}/{action}", f.userAction)
	page("GET "+in+"/groups", f.groupsPage)
	page("POST "+in+"/groups", f.createGroup)
	page("GET "+in+"/groups/{group_id}", f.groupPage)
	page("GET "+in+"/roles", f.rolesPage)
	page("GET "+in+"/events", f.eventsPage)
	page("GET "+in+"/policy", f.policyPage)
	page("POST "+in+"/policy", f.setPolicy)
	mux.Handle(prefix+"/", f.secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.WriteError(w, r, iamd.Errorf(iamd.ENOTFOUND, "No such page."))
	})))
}

// secured sets the headers of every console answer: a strict content security policy,
// no framing, no caching (pages show users and secrets), no referrer.
func (f *Face) secured(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// visit is one signed-in request: the caller, its session token and the CSRF token its
// forms carry.
type visit struct {
	p     *iamd.Principal
	token string
	csrf  string
}

// csrfToken derives the forms' token from the session token: a page can only carry it
// if it was rendered for this session, and nothing is stored.
func csrfToken(sessionToken string) string {
	mac := hmac.New(sha256.New, []byte(sessionToken))
	mac.Write([]byte("iamd console form"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// session admits requests with a live session cookie and, for a POST, the form's CSRF
// token. A session that may only change its password reaches only the pages that allow
// it (changeOnly).
func (f *Face) session(h func(w http.ResponseWriter, r *http.Request, s *visit), changeOnly bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" {
			f.toSignIn(w, r)
			return
		}
		p, err := f.acct.AuthenticateToken(r.Context(), c.Value)
		if err != nil {
			if iamd.ErrorCode(err) == iamd.EUNAUTHENTICATED {
				f.clearSession(w, r)
				f.toSignIn(w, r)
				return
			}
			f.WriteError(w, r, err)
			return
		}
		s := &visit{p: p, token: c.Value, csrf: csrfToken(c.Value)}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(s.csrf)) {
				f.WriteError(w, r, iamd.Errorf(iamd.EFORBIDDEN, "The form is out of date or did not come from this console. Reload the page and try again."))
				return
			}
		}
		if p.PasswordChangeOnly && !changeOnly {
			http.Redirect(w, r, f.prefix+"/password", http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(iamd.NewContextWithPrincipal(r.Context(), p)), s)
	})
}

func (f *Face) toSignIn(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, f.prefix+"/sign-in", http.StatusSeeOther)
}

// cookie is a console cookie: HttpOnly, SameSite=Strict, Secure when served over TLS.
func (f *Face) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: f.prefix + "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: maxAge}
}

func (f *Face) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, f.cookie(r, sessionCookie, "", -1))
}

// pageData is what every page's template reads.
type pageData struct {
	Title    string
	Prefix   string
	Instance string
	Caller   *iamd.Principal
	CSRF     string
	Notice   string
	Error    string
	Field    string
	Data     any
}

// render writes a page with status.
func (f *Face) render(w http.ResponseWriter, r *http.Request, status int, page string, d pageData) {
	t, ok := f.pages[page]
	if !ok {
		f.log.Error("console: no such template", "page", page)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	d.Prefix = f.prefix
	var b strings.Builder
	whole := "layout.html"
	if d.Title == "" { // a fragment of a page, for its script
		whole = "content"
	}
	if err := t.ExecuteTemplate(&b, whole, d); err != nil {
		server.LogInternalError(f.log, r, err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// show renders a signed-in page of instance inst.
func (f *Face) show(w http.ResponseWriter, r *http.Request, s *visit, inst, page, title string, data any) {
	f.render(w, r, http.StatusOK, page, pageData{Title: title, Instance: inst, Caller: s.p, CSRF: s.csrf,
		Notice: r.URL.Query().Get("notice"), Data: data})
}

// statusOf is the HTTP status of a domain error.
func statusOf(err error) int {
	switch iamd.ErrorCode(err) {
	case iamd.EINVALID:
		return http.StatusBadRequest
	case iamd.EUNAUTHENTICATED:
		return http.StatusUnauthorized
	case iamd.EFORBIDDEN:
		return http.StatusForbidden
	case iamd.ENOTFOUND:
		return http.StatusNotFound
	case iamd.ECONFLICT:
		return http.StatusConflict
	case iamd.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case iamd.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// WriteError answers err as a page; internal errors are logged and shown generically.
func (f *Face) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	server.Unavailable(w, err)
	status := statusOf(err)
	msg := iamd.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		server.LogInternalError(f.log, r, err)
		msg = "Internal error."
	}
	f.render(w, r, status, "error", pageData{Title: http.StatusText(status), Error: msg, Field: iamd.ErrorField(err)})
}

// back redirects to path with a notice, after a change (POST, then GET).
func (f *Face) back(w http.ResponseWriter, r *http.Request, path, notice string) {
	u := path
	if notice != "" {
		u += "?notice=" + url.QueryEscape(notice)
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

func newRandomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// instancePath is the console path of a page of an instance.
func (f *Face) instancePath(inst string, rest ...string) string {
	return f.prefix + "/instances/" + url.PathEscape(inst) + strings.Join(rest, "")
}
