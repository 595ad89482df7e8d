// Package native is iamd's own small API for people and the console: sign in, refresh
// and sign out, read oneself, change one's password, enrol in MFA, and manage one's own
// access keys and API tokens. Like every face it translates and nothing more.
package native

import (
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"iamd"
	"iamd/account"
	"iamd/face/wire"
	"iamd/server"
)

// Face serves the native API.
type Face struct {
	acct *account.Service
	dir  iamd.Administration
	log  *slog.Logger
}

// Config configures the face.
type Config struct {
	Accounts  *account.Service
	Directory iamd.Administration
	Logger    *slog.Logger
}

// New returns the face over the accounts core and the directory.
func New(cfg Config) (*Face, error) {
	if cfg.Accounts == nil || cfg.Directory == nil {
		return nil, errors.New("native: the accounts service and the directory are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Face{acct: cfg.Accounts, dir: cfg.Directory, log: cfg.Logger}, nil
}

// Name is the face's name in --face-addr and metrics.
func (f *Face) Name() string { return "native" }

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the face's OpenAPI 3.1 document.
func OpenAPIDocument() []byte { return openAPIDocument }

// Register adds the face's routes under prefix.
func (f *Face) Register(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("GET "+prefix+"/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPIDocument)
	})
	mux.HandleFunc("POST "+prefix+"/v1/instances/{instance_id}/sign-in", f.signIn)
	mux.HandleFunc("POST "+prefix+"/v1/session/refresh", f.refresh)
	mux.HandleFunc("POST "+prefix+"/v1/session/sign-out", f.signOut)
	me := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+prefix+path, f.authenticated(h))
	}
	me("GET /v1/me", f.getMe)
	me("PUT /v1/me/password", f.changePassword)
	me("POST /v1/me/mfa/totp", f.enrolTOTP)
	me("POST /v1/me/mfa/totp/confirm", f.confirmTOTP)
	me("DELETE /v1/me/mfa/totp", f.disableTOTP)
	me("GET /v1/me/access-keys", f.listAccessKeys)
	me("POST /v1/me/access-keys", f.createAccessKey)
	me("DELETE /v1/me/access-keys/{access_key}", f.revokeAccessKey)
	me("GET /v1/me/api-tokens", f.listAPITokens)
	me("POST /v1/me/api-tokens", f.createAPIToken)
	me("DELETE /v1/me/api-tokens/{token_id}", f.revokeAPIToken)
	f.registerAdmin(me)
	mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		f.WriteError(w, r, iamd.Errorf(iamd.ENOTFOUND, "No such resource: %s %s.", r.Method, r.URL.Path))
	})
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) (string, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", iamd.Errorf(iamd.EUNAUTHENTICATED, "Send Authorization: Bearer <token>.")
	}
	return token, nil
}

// authenticated admits requests bearing a live session token or API token.
func (f *Face) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := bearer(r)
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		p, err := f.acct.AuthenticateToken(r.Context(), token)
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(iamd.NewContextWithPrincipal(r.Context(), p)))
	})
}

type tokenResponse struct {
	Token                  string `json:"token"`
	TokenType              string `json:"token_type"`
	ExpiresAt              string `json:"expires_at"`
	ExpiresIn              int64  `json:"expires_in"`
	PasswordChangeRequired bool   `json:"password_change_required"`
}

func grantResponse(g *iamd.SessionGrant, now time.Time) tokenResponse {
	return tokenResponse{Token: g.Token, TokenType: "Bearer", ExpiresAt: g.Session.ExpiresAt.Format(time.RFC3339),
		ExpiresIn: int64(g.Session.ExpiresAt.Sub(now) / time.Second), PasswordChangeRequired: g.Session.PasswordChangeOnly}
}

func (f *Face) signIn(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, []string{"login_name", "password", "totp_code", "recovery_code"})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	var in iamd.SignIn
	in.InstanceID = r.PathValue("instance_id")
	if in.LoginName, err = obj.Required("login_name"); err == nil {
		in.Password, err = obj.Required("password")
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	for field, dst := range map[string]*string{"totp_code": &in.TOTPCode, "recovery_code": &in.RecoveryCode} {
		s, err := obj.String(field)
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		*dst = s.Value
	}
	grant, err := f.acct.SignIn(r.Context(), in)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, grantResponse(grant, time.Now()))
}

func (f *Face) refresh(w http.ResponseWriter, r *http.Request) {
	token, err := bearer(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	grant, err := f.acct.Refresh(r.Context(), token)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, grantResponse(grant, time.Now()))
}

func (f *Face) signOut(w http.ResponseWriter, r *http.Request) {
	token, err := bearer(r)
	if err == nil {
		err = f.acct.SignOut(r.Context(), token)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type meResponse struct {
	ID                string  `json:"id"`
	InstanceID        string  `json:"instance_id"`
	LoginName         string  `json:"login_name"`
	DisplayName       string  `json:"display_name"`
	Email             string  `json:"email"`
	MFAEnabled        bool    `json:"mfa_enabled"`
	TemporaryPassword bool    `json:"temporary_password"`
	PasswordChangedAt *string `json:"password_changed_at"`
	LastLoginAt       *string `json:"last_login_at"`
}

func optTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(time.RFC3339)
	return &s
}

func (f *Face) getMe(w http.ResponseWriter, r *http.Request) {
	u, err := f.acct.Me(r.Context())
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, meResponse{ID: u.ID, InstanceID: u.InstanceID, LoginName: u.LoginName,
		DisplayName: u.DisplayName, Email: u.Email, MFAEnabled: u.MFAEnabled, TemporaryPassword: u.TemporaryPassword,
		PasswordChangedAt: optTime(u.PasswordChangedAt), LastLoginAt: optTime(u.LastLoginAt)})
}

func (f *Face) changePassword(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, []string{"current_password", "new_password"})
	var current, next string
	if err == nil {
		current, err = obj.Required("current_password")
	}
	if err == nil {
		next, err = obj.Required("new_password")
	}
	if err == nil {
		err = f.acct.ChangePassword(r.Context(), current, next)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Face) enrolTOTP(w http.ResponseWriter, r *http.Request) {
	e, err := f.acct.EnrolTOTP(r.Context())
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"secret": e.Secret, "otpauth_uri": e.URI})
}

func (f *Face) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, []string{"code"})
	var code string
	if err == nil {
		code, err = obj.Required("code")
	}
	var codes []string
	if err == nil {
		codes, err = f.acct.ConfirmTOTP(r.Context(), code)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]string{"recovery_codes": codes})
}

func (f *Face) disableTOTP(w http.ResponseWriter, r *http.Request) {
	if err := f.acct.DisableTOTP(r.Context()); err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// credentialOptions reads {description, expires_at} of a new key or token.
func credentialOptions(r *http.Request) (iamd.CredentialOptions, error) {
	var opts iamd.CredentialOptions
	obj, err := wire.ReadObject(r, []string{"description", "expires_at"})
	if err != nil {
		return opts, err
	}
	d, err := obj.String("description")
	if err != nil {
		return opts, err
	}
	opts.Description = d.Value
	e, err := obj.String("expires_at")
	if err != nil {
		return opts, err
	}
	if e.Value != "" {
		at, err := time.Parse(time.RFC3339, e.Value)
		if err != nil {
			return opts, iamd.Invalid(iamd.FieldExpiresAt, "expires_at must be an RFC 3339 time, such as 2027-01-31T00:00:00Z")
		}
		opts.ExpiresAt = &at
	}
	return opts, nil
}

type accessKeyItem struct {
	AccessKey   string  `json:"access_key"`
	SecretKey   string  `json:"secret_key,omitempty"`
	Description string  `json:"description"`
	CreatedAt   string  `json:"created_at"`
	ExpiresAt   *string `json:"expires_at"`
	LastUsedAt  *string `json:"last_used_at"`
}

func toAccessKey(k *iamd.AccessKey) accessKeyItem {
	return accessKeyItem{AccessKey: k.ID, Description: k.Description, CreatedAt: k.CreatedAt.Format(time.RFC3339),
		ExpiresAt: optTime(k.ExpiresAt), LastUsedAt: optTime(k.LastUsedAt)}
}

// listAccessKeys, createAccessKey and listAPITokens act for the caller on its own
// credentials; the administration API's routes do the same for the user of their path.
func (f *Face) listAccessKeys(w http.ResponseWriter, r *http.Request) {
	p := iamd.PrincipalFromContext(r.Context())
	f.writeAccessKeys(w, r, p.InstanceID, p.UserID)
}

func (f *Face) writeAccessKeys(w http.ResponseWriter, r *http.Request, instanceID, userID string) {
	keys, err := f.acct.ListAccessKeys(r.Context(), instanceID, userID)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := make([]accessKeyItem, 0, len(keys))
	for i := range keys {
		out = append(out, toAccessKey(&keys[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_keys": out})
}

func (f *Face) createAccessKey(w http.ResponseWriter, r *http.Request) {
	p := iamd.PrincipalFromContext(r.Context())
	f.issueAccessKey(w, r, p.InstanceID, p.UserID)
}

// issueAccessKey creates a key pair for a user; its secret is in this answer only.
func (f *Face) issueAccessKey(w http.ResponseWriter, r *http.Request, instanceID, userID string) {
	opts, err := credentialOptions(r)
	var k *iamd.AccessKey
	var secret string
	if err == nil {
		k, secret, err = f.acct.CreateAccessKey(r.Context(), instanceID, userID, opts)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	item := toAccessKey(k)
	item.SecretKey = secret
	writeJSON(w, http.StatusCreated, item)
}

func (f *Face) revokeAccessKey(w http.ResponseWriter, r *http.Request) {
	p := iamd.PrincipalFromContext(r.Context())
	if err := f.acct.RevokeAccessKey(r.Context(), p.InstanceID, r.PathValue("access_key")); err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type apiTokenItem struct {
	ID          string  `json:"id"`
	Token       string  `json:"token,omitempty"`
	Description string  `json:"description"`
	CreatedAt   string  `json:"created_at"`
	ExpiresAt   *string `json:"expires_at"`
	LastUsedAt  *string `json:"last_used_at"`
}

func toAPIToken(t *iamd.APIToken) apiTokenItem {
	return apiTokenItem{ID: t.ID, Description: t.Description, CreatedAt: t.CreatedAt.Format(time.RFC3339),
		ExpiresAt: optTime(t.ExpiresAt), LastUsedAt: optTime(t.LastUsedAt)}
}

func (f *Face) listAPITokens(w http.ResponseWriter, r *http.Request) {
	p := iamd.PrincipalFromContext(r.Context())
	f.writeAPITokens(w, r, p.InstanceID, p.UserID)
}

func (f *Face) writeAPITokens(w http.ResponseWriter, r *http.Request, instanceID, userID string) {
	toks, err := f.acct.ListAPITokens(r.Context(), instanceID, userID)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := make([]apiTokenItem, 0, len(toks))
	for i := range toks {
		out = append(out, toAPIToken(&toks[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_tokens": out})
}

func (f *Face) createAPIToken(w http.ResponseWriter, r *http.Request) {
	p := iamd.PrincipalFromContext(r.Context())
	opts, err := credentialOptions(r)
	var t *iamd.APIToken
	var token string
	if err == nil {
		t, token, err = f.acct.CreateAPIToken(r.Context(), p.InstanceID, p.UserID, opts)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	item := toAPIToken(t)
	item.Token = token
	writeJSON(w, http.StatusCreated, item)
}

func (f *Face) revokeAPIToken(w http.ResponseWriter, r *http.Request) {
	p := iamd.PrincipalFromContext(r.Context())
	if err := f.acct.RevokeAPIToken(r.Context(), p.InstanceID, r.PathValue("token_id")); err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// errorBody is the face's one error shape.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// WriteError answers err as {"error": {code, field, message}}; internal errors are
// logged and shown only generically.
func (f *Face) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var body *wire.BodyError
	if errors.As(err, &body) {
		code := "invalid"
		if body.Malformed {
			code = "malformed_json"
		}
		writeJSON(w, http.StatusBadRequest, errorBody{errorDetail{Code: code, Field: body.Field, Message: body.Message}})
		return
	}
	detail := errorDetail{Code: iamd.ErrorCode(err), Field: iamd.ErrorField(err), Message: iamd.ErrorMessage(err)}
	status := http.StatusInternalServerError
	switch detail.Code {
	case iamd.EINVALID:
		status = http.StatusBadRequest
	case iamd.EUNAUTHENTICATED:
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="iamd"`)
	case iamd.EFORBIDDEN:
		status = http.StatusForbidden
	case iamd.ENOTFOUND:
		status = http.StatusNotFound
	case iamd.ECONFLICT:
		status = http.StatusConflict
	case iamd.ETOOLARGE:
		status = http.StatusRequestEntityTooLarge
	case iamd.EUNAVAILABLE:
		server.Unavailable(w, err)
		status = http.StatusServiceUnavailable
	default:
		server.LogInternalError(f.log, r, err)
		detail = errorDetail{Code: iamd.EINTERNAL, Message: "Internal error."}
	}
	writeJSON(w, status, errorBody{detail})
}

var jsonAnswer = wire.JSON{InternalError: []byte(`{"error":{"code":"internal","message":"Internal error."}}`)}

func writeJSON(w http.ResponseWriter, status int, v any) { jsonAnswer.Write(w, status, v) }
