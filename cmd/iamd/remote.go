package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"iamd"
)

// remoteBackend runs the admin commands through a server's native API (/iamd/v1) with
// a bearer token: an API token or a session token.
type remoteBackend struct {
	base  string // the server's root URL, without a trailing slash
	token string
	http  *http.Client
}

func newRemoteBackend(rawURL, token string) (*remoteBackend, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url must be the server's address, such as http://127.0.0.1:8080, got %q", rawURL)
	}
	if token == "" {
		return nil, fmt.Errorf("--url needs --token (or IAMD_TOKEN): an API token or a session token of the native API")
	}
	return &remoteBackend{base: strings.TrimRight(rawURL, "/"), token: token, http: &http.Client{Timeout: time.Minute}}, nil
}

func (b *remoteBackend) Close() error { return nil }

// apiError is the native API's error body, turned back into a domain error so that the
// commands describe it as they describe the core's.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"error"`
}

// call sends a request to path (under /iamd/v1) with body as JSON, and decodes a 2xx
// answer into out (when not nil).
func (b *remoteBackend) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+"/iamd/v1"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e apiError
		if json.Unmarshal(raw, &e) != nil || e.Error.Code == "" {
			return fmt.Errorf("%s %s: %s", method, path, resp.Status)
		}
		code := e.Error.Code
		if code == "malformed_json" {
			code = iamd.EINVALID
		}
		return &iamd.Error{Code: code, Field: e.Error.Field, Message: e.Error.Message}
	}
	if out != nil && len(raw) > 0 {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func instancePath(id string, rest ...string) string {
	return "/instances/" + url.PathEscape(id) + strings.Join(rest, "")
}

// wireInstance is an instance as the native API shows it.
type wireInstance struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Policy struct {
		PasswordMinLength      int   `json:"password_min_length"`
		PasswordHistory        int   `json:"password_history"`
		PasswordMaxAgeDays     int64 `json:"password_max_age_days"`
		LockoutThreshold       int   `json:"lockout_threshold"`
		LockoutDurationSeconds int64 `json:"lockout_duration_seconds"`
	} `json:"policy"`
	CreatedAt time.Time `json:"created_at"`
}

func (w wireInstance) domain() iamd.Instance {
	p := w.Policy
	return iamd.Instance{ID: w.ID, Name: w.Name, CreatedAt: w.CreatedAt, Policy: iamd.AccountPolicy{
		PasswordMinLength: p.PasswordMinLength, PasswordHistory: p.PasswordHistory,
		PasswordMaxAge: time.Duration(p.PasswordMaxAgeDays) * 24 * time.Hour, LockoutThreshold: p.LockoutThreshold,
		LockoutDuration: time.Duration(p.LockoutDurationSeconds) * time.Second}}
}

func (b *remoteBackend) CreateInstance(ctx context.Context, inst *iamd.Instance) (*iamd.Instance, error) {
	if inst.DuplicateGroupNames {
		return nil, fmt.Errorf("--duplicate-group-names is set at the database only: run without --url")
	}
	var out wireInstance
	if err := b.call(ctx, "POST", "/instances", map[string]string{"id": inst.ID, "name": inst.Name}, &out); err != nil {
		return nil, err
	}
	d := out.domain()
	return &d, nil
}

func (b *remoteBackend) ListInstances(ctx context.Context) ([]iamd.Instance, error) {
	var out struct {
		Instances []wireInstance `json:"instances"`
	}
	if err := b.call(ctx, "GET", "/instances", nil, &out); err != nil {
		return nil, err
	}
	list := make([]iamd.Instance, 0, len(out.Instances))
	for _, w := range out.Instances {
		list = append(list, w.domain())
	}
	return list, nil
}

func (b *remoteBackend) SetAccountPolicy(ctx context.Context, id string, p iamd.AccountPolicy) error {
	return b.call(ctx, "PUT", instancePath(id, "/policy"), map[string]int64{
		"password_min_length": int64(p.PasswordMinLength), "password_history": int64(p.PasswordHistory),
		"password_max_age_days": int64(p.PasswordMaxAge / (24 * time.Hour)), "lockout_threshold": int64(p.LockoutThreshold),
		"lockout_duration_seconds": int64(p.LockoutDuration / time.Second)}, nil)
}

func (b *remoteBackend) DeleteInstance(ctx context.Context, id string) error {
	return b.call(ctx, "DELETE", instancePath(id), nil, nil)
}

type wireGroup struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	MemberCount int    `json:"member_count"`
}

func (b *remoteBackend) CreateGroup(ctx context.Context, g *iamd.Group) (*iamd.Group, error) {
	if g.ID != "" {
		return nil, fmt.Errorf("--id is set at the database only: run without --url")
	}
	var out wireGroup
	if err := b.call(ctx, "POST", instancePath(g.InstanceID, "/groups"), map[string]string{"name": g.Name, "description": g.Description}, &out); err != nil {
		return nil, err
	}
	return &iamd.Group{ID: out.ID, InstanceID: g.InstanceID, Name: out.Name, Description: out.Description}, nil
}

func (b *remoteBackend) ListGroups(ctx context.Context, instanceID string, each func(iamd.Group)) error {
	for cursor := ""; ; {
		var out struct {
			Groups []wireGroup `json:"groups"`
			Next   *string     `json:"next_cursor"`
		}
		if err := b.call(ctx, "GET", instancePath(instanceID, "/groups?limit=200&cursor="+url.QueryEscape(cursor)), nil, &out); err != nil {
			return err
		}
		for _, g := range out.Groups {
			each(iamd.Group{ID: g.ID, InstanceID: instanceID, Name: g.Name, Description: g.Description, MemberCount: g.MemberCount})
		}
		if out.Next == nil {
			return nil
		}
		cursor = *out.Next
	}
}

// wireUser is what the commands read of a user.
type wireUser struct {
	ID        string `json:"id"`
	LoginName string `json:"login_name"`
	Version   int64  `json:"version"`
}

// user finds the user of a login name: by the login-name prefix search, then exactly.
func (b *remoteBackend) user(ctx context.Context, instanceID, login string) (*wireUser, error) {
	var out struct {
		Users []wireUser `json:"users"`
	}
	if err := b.call(ctx, "GET", instancePath(instanceID, "/users?limit=200&login_name="+url.QueryEscape(login)), nil, &out); err != nil {
		return nil, err
	}
	for _, u := range out.Users {
		if iamd.LoginKey(u.LoginName) == iamd.LoginKey(login) {
			return &u, nil
		}
	}
	return nil, iamd.Errorf(iamd.ENOTFOUND, "No user %q in instance %s.", login, instanceID)
}

// ChangeUser maps the changes the commands make onto the native API: a password, an
// unlock, and the status, lock, expiry and roles of a PATCH from the version just read.
func (b *remoteBackend) ChangeUser(ctx context.Context, instanceID, login string, change iamd.UserChange) (*iamd.User, error) {
	u, err := b.user(ctx, instanceID, login)
	if err != nil {
		return nil, err
	}
	path := instancePath(instanceID, "/users/", url.PathEscape(u.ID))
	var out wireUser
	switch {
	case change.Password != nil:
		if change.Password.Hash != "" {
			return nil, fmt.Errorf("importing a password hash is done at the database only: run without --url")
		}
		err = b.call(ctx, "PUT", path+"/password", map[string]any{"password": change.Password.Clear, "temporary": change.Password.Temporary}, &out)
	case change.UserUpdate == iamd.UserUpdate{Locked: change.Locked} && change.Locked != nil && !*change.Locked:
		err = b.call(ctx, "POST", path+"/unlock", nil, &out)
	default:
		body := map[string]any{"version": u.Version}
		if change.Status != nil {
			body["status"] = string(*change.Status)
		}
		for name, v := range map[string]*bool{"locked": change.Locked, "expired": change.Expired} {
			if v != nil {
				body[name] = *v
			}
		}
		if change.Roles != nil {
			body["roles"] = *change.Roles
		}
		err = b.call(ctx, "PATCH", path, body, &out)
	}
	if err != nil {
		return nil, err
	}
	return &iamd.User{ID: out.ID, InstanceID: instanceID, LoginName: out.LoginName, Version: out.Version}, nil
}

type wireKey struct {
	AccessKey   string     `json:"access_key"`
	SecretKey   string     `json:"secret_key"`
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
}

func (k wireKey) domain() iamd.AccessKey {
	return iamd.AccessKey{ID: k.AccessKey, Description: k.Description, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt,
		LastUsedAt: k.LastUsedAt, Enabled: true}
}

func (b *remoteBackend) CreateAccessKey(ctx context.Context, instanceID, login string, opts iamd.CredentialOptions) (*iamd.AccessKey, string, error) {
	u, err := b.user(ctx, instanceID, login)
	if err != nil {
		return nil, "", err
	}
	body := map[string]any{"description": opts.Description}
	if opts.ExpiresAt != nil {
		body["expires_at"] = opts.ExpiresAt.UTC().Format(time.RFC3339)
	}
	var out wireKey
	if err := b.call(ctx, "POST", instancePath(instanceID, "/users/", url.PathEscape(u.ID), "/access-keys"), body, &out); err != nil {
		return nil, "", err
	}
	k := out.domain()
	return &k, out.SecretKey, nil
}

func (b *remoteBackend) ListAccessKeys(ctx context.Context, instanceID, login string) ([]iamd.AccessKey, error) {
	u, err := b.user(ctx, instanceID, login)
	if err != nil {
		return nil, err
	}
	var out struct {
		Keys []wireKey `json:"access_keys"`
	}
	if err := b.call(ctx, "GET", instancePath(instanceID, "/users/", url.PathEscape(u.ID), "/access-keys"), nil, &out); err != nil {
		return nil, err
	}
	keys := make([]iamd.AccessKey, 0, len(out.Keys))
	for _, k := range out.Keys {
		keys = append(keys, k.domain())
	}
	return keys, nil
}

func (b *remoteBackend) RevokeAccessKey(ctx context.Context, instanceID, accessKey string) error {
	return b.call(ctx, "DELETE", instancePath(instanceID, "/access-keys/", url.PathEscape(accessKey)), nil, nil)
}

type wireRole struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Builtin     bool     `json:"builtin"`
	Privileges  []string `json:"privileges"`
}

func (b *remoteBackend) CreateRole(ctx context.Context, r *iamd.Role) (*iamd.Role, error) {
	var out wireRole
	if err := b.call(ctx, "POST", instancePath(r.InstanceID, "/roles"), map[string]any{"name": r.Name,
		"description": r.Description, "privileges": r.Privileges}, &out); err != nil {
		return nil, err
	}
	return &iamd.Role{InstanceID: r.InstanceID, Name: out.Name, Description: out.Description, Privileges: out.Privileges}, nil
}

func (b *remoteBackend) ListRoles(ctx context.Context, instanceID string) ([]iamd.Role, error) {
	var out struct {
		Roles []wireRole `json:"roles"`
	}
	if err := b.call(ctx, "GET", instancePath(instanceID, "/roles"), nil, &out); err != nil {
		return nil, err
	}
	roles := make([]iamd.Role, 0, len(out.Roles))
	for _, r := range out.Roles {
		roles = append(roles, iamd.Role{InstanceID: instanceID, Name: r.Name, Description: r.Description, Builtin: r.Builtin, Privileges: r.Privileges})
	}
	return roles, nil
}

func (b *remoteBackend) DeleteRole(ctx context.Context, instanceID, name string) error {
	return b.call(ctx, "DELETE", instancePath(instanceID, "/roles/", url.PathEscape(name)), nil, nil)
}

func (b *remoteBackend) ExportEvents(ctx context.Context, f iamd.EventFilter, write func(json.RawMessage) error) error {
	q := url.Values{"limit": {"200"}}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339))
	}
	for {
		var out struct {
			Events []json.RawMessage `json:"events"`
			Next   *string           `json:"next_cursor"`
		}
		if err := b.call(ctx, "GET", instancePath(f.InstanceID, "/events?"+q.Encode()), nil, &out); err != nil {
			return err
		}
		for _, e := range out.Events {
			if err := write(e); err != nil {
				return err
			}
		}
		if out.Next == nil {
			return nil
		}
		q.Set("cursor", *out.Next)
	}
}
