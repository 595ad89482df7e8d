package native

// This file is the administration half of the native API: an instance's users, groups,
// roles, policy and audit trail, and the platform's instances, in iamd's own canonical
// field names. Every call is one core call; the core authorizes it.

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"iamd"
	"iamd/face/wire"
)

const (
	defaultLimit = 50
	maxLimit     = 200
)

func (f *Face) registerAdmin(route func(pattern string, h http.HandlerFunc)) {
	route("GET /v1/instances", f.listInstances)
	route("POST /v1/instances", f.createInstance)
	route("GET /v1/instances/{instance_id}", f.getInstance)
	route("DELETE /v1/instances/{instance_id}", f.deleteInstance)
	route("GET /v1/instances/{instance_id}/policy", f.getPolicy)
	route("PUT /v1/instances/{instance_id}/policy", f.putPolicy)
	route("GET /v1/instances/{instance_id}/events", f.listEvents)

	route("GET /v1/instances/{instance_id}/users", f.listUsers)
	route("POST /v1/instances/{instance_id}/users", f.createUser)
	route("GET /v1/instances/{instance_id}/users/{user_id}", f.getUser)
	route("PATCH /v1/instances/{instance_id}/users/{user_id}", f.patchUser)
	route("DELETE /v1/instances/{instance_id}/users/{user_id}", f.deleteUser)
	route("PUT /v1/instances/{instance_id}/users/{user_id}/password", f.setPassword)
	route("POST /v1/instances/{instance_id}/users/{user_id}/unlock", f.unlockUser)
	route("DELETE /v1/instances/{instance_id}/users/{user_id}/mfa", f.resetMFA)
	route("GET /v1/instances/{instance_id}/users/{user_id}/privileges", f.userPrivileges)
	route("GET /v1/instances/{instance_id}/users/{user_id}/sessions", f.listSessions)
	route("DELETE /v1/instances/{instance_id}/users/{user_id}/sessions", f.expireSessions)
	route("DELETE /v1/instances/{instance_id}/users/{user_id}/sessions/{session_id}", f.revokeSession)
	route("GET /v1/instances/{instance_id}/users/{user_id}/access-keys", f.listUserAccessKeys)
	route("POST /v1/instances/{instance_id}/users/{user_id}/access-keys", f.createUserAccessKey)
	route("DELETE /v1/instances/{instance_id}/access-keys/{access_key}", f.revokeInstanceAccessKey)
	route("DELETE /v1/instances/{instance_id}/users/{user_id}/access-keys/{access_key}", f.revokeUserAccessKey)
	route("GET /v1/instances/{instance_id}/users/{user_id}/api-tokens", f.listUserAPITokens)
	route("DELETE /v1/instances/{instance_id}/users/{user_id}/api-tokens/{token_id}", f.revokeUserAPIToken)

	route("GET /v1/instances/{instance_id}/groups", f.listGroups)
	route("POST /v1/instances/{instance_id}/groups", f.createGroup)
	route("GET /v1/instances/{instance_id}/groups/{group_id}", f.getGroup)
	route("PATCH /v1/instances/{instance_id}/groups/{group_id}", f.patchGroup)
	route("DELETE /v1/instances/{instance_id}/groups/{group_id}", f.deleteGroup)
	route("PUT /v1/instances/{instance_id}/groups/{group_id}/roles", f.setGroupRoles)
	route("GET /v1/instances/{instance_id}/roles", f.listRoles)
	route("POST /v1/instances/{instance_id}/roles", f.createRole)
	route("PUT /v1/instances/{instance_id}/roles/{role}", f.saveRole)
	route("DELETE /v1/instances/{instance_id}/roles/{role}", f.deleteRole)
}

// cursor is an opaque position in a listing: the encoded sort key of the last item.
func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeCursor(r *http.Request) (string, error) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return "", nil
	}
	key, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(key) == 0 {
		return "", iamd.Invalid("cursor", "cursor must be a next_cursor this API returned")
	}
	return string(key), nil
}

// limitParam reads ?limit=, 1 to maxLimit.
func limitParam(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, iamd.Invalid("limit", "limit must be a whole number from 1 to %d", maxLimit)
	}
	return n, nil
}

func optTimeUTC(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func timeUTC(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

type groupRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// userBody is a user in iamd's canonical vocabulary.
type userBody struct {
	ID                  string     `json:"id"`
	InstanceID          string     `json:"instance_id"`
	LoginName           string     `json:"login_name"`
	Realm               string     `json:"realm"`
	DisplayName         string     `json:"display_name"`
	GivenName           string     `json:"given_name"`
	FamilyName          string     `json:"family_name"`
	Email               string     `json:"email"`
	EmailVerified       bool       `json:"email_verified"`
	PhoneCountryCode    string     `json:"phone_country_code"`
	PhoneNumber         string     `json:"phone_number"`
	PhoneExtension      string     `json:"phone_extension"`
	PhoneVerified       bool       `json:"phone_verified"`
	EmployeeNumber      string     `json:"employee_number"`
	Department          string     `json:"department"`
	BusinessUnit        string     `json:"business_unit"`
	Manager             string     `json:"manager"`
	Organization        string     `json:"organization"`
	Description         string     `json:"description"`
	TimeZone            string     `json:"time_zone"`
	Locale              string     `json:"locale"`
	ExternalID          string     `json:"external_id"`
	Status              string     `json:"status"`
	ConsoleDenied       bool       `json:"console_denied"`
	APIDenied           bool       `json:"api_denied"`
	Builtin             bool       `json:"builtin"`
	SSO                 bool       `json:"sso"`
	PlatformAdmin       bool       `json:"platform_admin"`
	TemporaryPassword   bool       `json:"temporary_password"`
	PasswordChangedAt   *string    `json:"password_changed_at"`
	PasswordFailedCount int        `json:"password_failed_count"`
	Locked              bool       `json:"locked"`
	LockedUntil         *string    `json:"locked_until"`
	Expired             bool       `json:"expired"`
	CredentialsExpired  bool       `json:"credentials_expired"`
	MFAEnabled          bool       `json:"mfa_enabled"`
	LastLoginAt         *string    `json:"last_login_at"`
	Roles               []string   `json:"roles"`
	Privileges          []string   `json:"privileges"`
	Groups              []groupRef `json:"groups"`
	CreatedAt           string     `json:"created_at"`
	CreatedBy           string     `json:"created_by"`
	UpdatedAt           string     `json:"updated_at"`
	UpdatedBy           string     `json:"updated_by"`
	Version             int64      `json:"version"`
}

func toUserBody(u *iamd.User, now time.Time) userBody {
	groups := make([]groupRef, 0, len(u.Groups))
	for _, g := range u.Groups {
		groups = append(groups, groupRef{ID: g.ID, Name: g.Name})
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return userBody{ID: u.ID, InstanceID: u.InstanceID, LoginName: u.LoginName, Realm: u.Realm,
		DisplayName: u.DisplayName, GivenName: u.GivenName, FamilyName: u.FamilyName,
		Email: u.Email, EmailVerified: u.EmailVerified, PhoneCountryCode: u.PhoneCountryCode, PhoneNumber: u.PhoneNumber,
		PhoneExtension: u.PhoneExtension, PhoneVerified: u.PhoneVerified, EmployeeNumber: u.EmployeeNumber,
		Department: u.Department, BusinessUnit: u.BusinessUnit, Manager: u.Manager, Organization: u.Organization,
		Description: u.Description, TimeZone: u.TimeZone, Locale: u.Locale, ExternalID: u.ExternalID,
		Status: string(u.Status), ConsoleDenied: u.ConsoleDenied, APIDenied: u.APIDenied, Builtin: u.Builtin, SSO: u.SSO,
		PlatformAdmin: u.PlatformAdmin, TemporaryPassword: u.TemporaryPassword, PasswordChangedAt: optTimeUTC(u.PasswordChangedAt),
		PasswordFailedCount: u.PasswordFailedCount, Locked: u.LockedUntil != nil && u.LockedUntil.After(now),
		LockedUntil: optTimeUTC(u.LockedUntil), Expired: u.Expired, CredentialsExpired: u.CredentialsExpired,
		MFAEnabled: u.MFAEnabled, LastLoginAt: optTimeUTC(u.LastLoginAt), Roles: nonNil(u.Roles),
		Privileges: nonNil(u.Privileges), Groups: groups, CreatedAt: timeUTC(u.CreatedAt), CreatedBy: u.CreatedBy,
		UpdatedAt: timeUTC(u.UpdatedAt), UpdatedBy: u.UpdatedBy, Version: u.Version}
}

// userStrings are the string fields a create or change may set, with where each goes.
var userStrings = []struct {
	name string
	set  func(*iamd.UserUpdate, *string)
}{
	{iamd.FieldDisplayName, func(u *iamd.UserUpdate, v *string) { u.DisplayName = v }},
	{iamd.FieldGivenName, func(u *iamd.UserUpdate, v *string) { u.GivenName = v }},
	{iamd.FieldFamilyName, func(u *iamd.UserUpdate, v *string) { u.FamilyName = v }},
	{iamd.FieldEmail, func(u *iamd.UserUpdate, v *string) { u.Email = v }},
	{iamd.FieldPhoneCountryCode, func(u *iamd.UserUpdate, v *string) { u.PhoneCountryCode = v }},
	{iamd.FieldPhoneNumber, func(u *iamd.UserUpdate, v *string) { u.PhoneNumber = v }},
	{iamd.FieldPhoneExtension, func(u *iamd.UserUpdate, v *string) { u.PhoneExtension = v }},
	{iamd.FieldEmployeeNumber, func(u *iamd.UserUpdate, v *string) { u.EmployeeNumber = v }},
	{iamd.FieldDepartment, func(u *iamd.UserUpdate, v *string) { u.Department = v }},
	{iamd.FieldBusinessUnit, func(u *iamd.UserUpdate, v *string) { u.BusinessUnit = v }},
	{iamd.FieldManager, func(u *iamd.UserUpdate, v *string) { u.Manager = v }},
	{iamd.FieldOrganization, func(u *iamd.UserUpdate, v *string) { u.Organization = v }},
	{iamd.FieldDescription, func(u *iamd.UserUpdate, v *string) { u.Description = v }},
	{iamd.FieldTimeZone, func(u *iamd.UserUpdate, v *string) { u.TimeZone = v }},
	{iamd.FieldLocale, func(u *iamd.UserUpdate, v *string) { u.Locale = v }},
	{iamd.FieldExternalID, func(u *iamd.UserUpdate, v *string) { u.ExternalID = v }},
}

// userBools are the boolean fields a create or change may set.
var userBools = []struct {
	name string
	set  func(*iamd.UserUpdate, *bool)
}{
	{"email_verified", func(u *iamd.UserUpdate, v *bool) { u.EmailVerified = v }},
	{"phone_verified", func(u *iamd.UserUpdate, v *bool) { u.PhoneVerified = v }},
	{"console_denied", func(u *iamd.UserUpdate, v *bool) { u.ConsoleDenied = v }},
	{"api_denied", func(u *iamd.UserUpdate, v *bool) { u.APIDenied = v }},
	{"expired", func(u *iamd.UserUpdate, v *bool) { u.Expired = v }},
	{"credentials_expired", func(u *iamd.UserUpdate, v *bool) { u.CredentialsExpired = v }},
	{"locked", func(u *iamd.UserUpdate, v *bool) { u.Locked = v }},
}

// userFields are the fields of a user a body may carry: those above, the status, grants,
// and on a create the login name, password and first groups, on a change the version.
func userFields(extra ...string) []string {
	out := []string{iamd.FieldStatus, iamd.FieldRoles, iamd.FieldPrivileges}
	for _, f := range userStrings {
		out = append(out, f.name)
	}
	for _, f := range userBools {
		out = append(out, f.name)
	}
	return append(out, extra...)
}

var (
	createFields = userFields(iamd.FieldLoginName, iamd.FieldPassword, "temporary_password", iamd.FieldGroupIDs)
	changeFields = userFields(iamd.FieldLoginName, iamd.FieldVersion)
)

// readUpdate reads the fields of a user that a create and a change share.
func readUpdate(obj wire.Object) (iamd.UserUpdate, error) {
	var upd iamd.UserUpdate
	for _, f := range userStrings {
		s, err := obj.String(f.name)
		if err != nil {
			return upd, err
		}
		if s.Set {
			v := s.Value
			f.set(&upd, &v)
		}
	}
	for _, f := range userBools {
		if _, ok := obj[f.name]; !ok {
			continue
		}
		b, err := obj.Bool(f.name, false)
		if err != nil {
			return upd, err
		}
		f.set(&upd, &b)
	}
	status, err := obj.String(iamd.FieldStatus)
	if err != nil {
		return upd, err
	}
	if status.Set {
		s := iamd.UserStatus(status.Value)
		upd.Status = &s
	}
	for field, dst := range map[string]**[]string{iamd.FieldRoles: &upd.Roles, iamd.FieldPrivileges: &upd.Privileges} {
		if _, ok := obj[field]; !ok {
			continue
		}
		list, err := obj.Strings(field)
		if err != nil {
			return upd, err
		}
		if list == nil {
			list = []string{}
		}
		*dst = &list
	}
	return upd, nil
}

func (f *Face) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	after, err := decodeCursor(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	filter := iamd.UserSearch{Any: q.Get("q"), LoginName: q.Get("login_name"), Email: q.Get("email"),
		DisplayName: q.Get("name"), Status: iamd.UserStatus(q.Get("status")), GroupID: q.Get("group"), Role: q.Get("role"),
		After: after, Limit: limit}.Filter(r.PathValue("instance_id"))
	page, err := f.dir.ListUsers(r.Context(), filter)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	now := time.Now()
	users := make([]userBody, 0, min(len(page.Users), limit))
	for i := range page.Users[:min(len(page.Users), limit)] {
		users = append(users, toUserBody(&page.Users[i], now))
	}
	var next *string
	if len(page.Users) > limit {
		c := encodeCursor(page.Users[limit-1].LoginName)
		next = &c
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users, "next_cursor": next})
}

func (f *Face) createUser(w http.ResponseWriter, r *http.Request) {
	u, err := f.dir.CreateUserFrom(r.Context(), r.PathValue("instance_id"), func() (*iamd.User, iamd.CreateUserOptions, error) {
		var opts iamd.CreateUserOptions
		obj, err := wire.ReadObject(r, createFields)
		if err != nil {
			return nil, opts, err
		}
		login, err := obj.Required(iamd.FieldLoginName)
		if err != nil {
			return nil, opts, err
		}
		upd, err := readUpdate(obj)
		if err != nil {
			return nil, opts, err
		}
		pw, err := obj.String(iamd.FieldPassword)
		if err != nil {
			return nil, opts, err
		}
		temporary, err := obj.Bool("temporary_password", false)
		if err != nil {
			return nil, opts, err
		}
		if opts.GroupIDs, err = obj.Strings(iamd.FieldGroupIDs); err != nil {
			return nil, opts, err
		}
		u := &iamd.User{LoginName: login, Status: iamd.UserActive}
		if upd.Locked != nil {
			opts.Locked, upd.Locked = *upd.Locked, nil
		}
		upd.Apply(u)
		if upd.Roles != nil {
			u.Roles = *upd.Roles
		}
		if upd.Privileges != nil {
			u.Privileges = *upd.Privileges
		}
		opts.Password = pw.Value
		u.TemporaryPassword = temporary && pw.Value != ""
		return u, opts, nil
	})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.Header().Set("Location", r.URL.Path+"/"+u.ID)
	writeJSON(w, http.StatusCreated, toUserBody(u, time.Now()))
}

func (f *Face) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := f.dir.GetUser(r.Context(), r.PathValue("instance_id"), r.PathValue("user_id"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserBody(u, time.Now()))
}

// changeUser makes one change to the user of the path and answers the user as it is after.
func (f *Face) changeUser(w http.ResponseWriter, r *http.Request, version int64, change iamd.UserChange) {
	u, err := f.dir.ChangeUser(r.Context(), r.PathValue("instance_id"), iamd.UserRef{ID: r.PathValue("user_id"), Version: version},
		func(*iamd.User) (*iamd.UserChange, error) { return &change, nil })
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserBody(u, time.Now()))
}

// versionField reads a required "version": the version the change was built from.
func versionField(obj wire.Object) (int64, error) {
	raw, ok := obj[iamd.FieldVersion]
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if !ok || err != nil || v < 1 {
		return 0, iamd.Invalid(iamd.FieldVersion, "version is required: the version of the user the change was made from, a whole number from 1")
	}
	return v, nil
}

func (f *Face) patchUser(w http.ResponseWriter, r *http.Request) {
	// The body is read inside the edit, after the core has authorized the caller, and
	// once: the core holds the change to the version the body names.
	var change *iamd.UserChange
	u, err := f.dir.ChangeUser(r.Context(), r.PathValue("instance_id"), iamd.UserRef{ID: r.PathValue("user_id")},
		func(*iamd.User) (*iamd.UserChange, error) {
			if change != nil {
				return change, nil
			}
			obj, err := wire.ReadObject(r, changeFields)
			if err != nil {
				return nil, err
			}
			version, err := versionField(obj)
			if err != nil {
				return nil, err
			}
			upd, err := readUpdate(obj)
			if err != nil {
				return nil, err
			}
			c := &iamd.UserChange{UserUpdate: upd, Version: version}
			login, err := obj.String(iamd.FieldLoginName)
			if err != nil {
				return nil, err
			}
			if login.Set {
				c.LoginName = &login.Value
			}
			change = c
			return change, nil
		})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserBody(u, time.Now()))
}

// versionQuery reads ?version=, the version a delete is for; 0 when absent.
func versionQuery(r *http.Request) (int64, error) {
	s := r.URL.Query().Get("version")
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 {
		return 0, iamd.Invalid(iamd.FieldVersion, "version must be a whole number from 1")
	}
	return v, nil
}

func (f *Face) deleteUser(w http.ResponseWriter, r *http.Request) {
	version, err := versionQuery(r)
	if err == nil {
		err = f.dir.DeleteUser(r.Context(), r.PathValue("instance_id"), iamd.UserRef{ID: r.PathValue("user_id"), Version: version})
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Face) setPassword(w http.ResponseWriter, r *http.Request) {
	var pw iamd.NewPassword
	u, err := f.dir.ChangeUser(r.Context(), r.PathValue("instance_id"), iamd.UserRef{ID: r.PathValue("user_id")},
		func(*iamd.User) (*iamd.UserChange, error) {
			obj, err := wire.ReadObject(r, []string{iamd.FieldPassword, "temporary"})
			if err != nil {
				return nil, err
			}
			if pw.Clear, err = obj.Required(iamd.FieldPassword); err != nil {
				return nil, err
			}
			if pw.Temporary, err = obj.Bool("temporary", false); err != nil {
				return nil, err
			}
			return &iamd.UserChange{Password: &pw}, nil
		})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserBody(u, time.Now()))
}

func (f *Face) unlockUser(w http.ResponseWriter, r *http.Request) {
	unlocked := false
	f.changeUser(w, r, 0, iamd.UserChange{UserUpdate: iamd.UserUpdate{Locked: &unlocked}})
}

func (f *Face) resetMFA(w http.ResponseWriter, r *http.Request) {
	f.changeUser(w, r, 0, iamd.UserChange{MFA: &iamd.MFASetting{Enabled: false}})
}

func (f *Face) userPrivileges(w http.ResponseWriter, r *http.Request) {
	roles, privileges, err := f.dir.EffectiveGrants(r.Context(), r.PathValue("instance_id"), r.PathValue("user_id"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	if roles == nil {
		roles = []string{}
	}
	if privileges == nil {
		privileges = []string{}
	}
	writeJSON(w, http.StatusOK, map[string][]string{"roles": roles, "privileges": privileges})
}

type sessionItem struct {
	ID                 string `json:"id"`
	CreatedAt          string `json:"created_at"`
	ExpiresAt          string `json:"expires_at"`
	PasswordChangeOnly bool   `json:"password_change_only"`
}

func (f *Face) listSessions(w http.ResponseWriter, r *http.Request) {
	sessions, err := f.acct.ListSessions(r.Context(), r.PathValue("instance_id"), r.PathValue("user_id"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := make([]sessionItem, 0, len(sessions))
	for _, s := range sessions {
		out = append(out, sessionItem{ID: s.ID, CreatedAt: timeUTC(s.CreatedAt), ExpiresAt: timeUTC(s.ExpiresAt),
			PasswordChangeOnly: s.PasswordChangeOnly})
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (f *Face) expireSessions(w http.ResponseWriter, r *http.Request) {
	n, err := f.acct.ExpireSessions(r.Context(), r.PathValue("instance_id"), r.PathValue("user_id"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
}

func (f *Face) revokeSession(w http.ResponseWriter, r *http.Request) {
	if err := f.acct.RevokeSession(r.Context(), r.PathValue("instance_id"), r.PathValue("user_id"), r.PathValue("session_id")); err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Face) listUserAccessKeys(w http.ResponseWriter, r *http.Request) {
	f.writeAccessKeys(w, r, r.PathValue("instance_id"), r.PathValue("user_id"))
}

func (f *Face) createUserAccessKey(w http.ResponseWriter, r *http.Request) {
	f.issueAccessKey(w, r, r.PathValue("instance_id"), r.PathValue("user_id"))
}

// revokeInstanceAccessKey revokes a key of the instance, whoever holds it.
func (f *Face) revokeInstanceAccessKey(w http.ResponseWriter, r *http.Request) {
	if err := f.acct.RevokeAccessKey(r.Context(), r.PathValue("instance_id"), r.PathValue("access_key")); err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Face) listUserAPITokens(w http.ResponseWriter, r *http.Request) {
	f.writeAPITokens(w, r, r.PathValue("instance_id"), r.PathValue("user_id"))
}

// revokeUserAccessKey and revokeUserAPIToken revoke a credential of the user in the
// path: one of another user is no such credential.
func (f *Face) revokeUserAccessKey(w http.ResponseWriter, r *http.Request) {
	f.answerDone(w, r, f.acct.RevokeUserAccessKey(r.Context(), r.PathValue("instance_id"), r.PathValue("user_id"), r.PathValue("access_key")))
}

func (f *Face) revokeUserAPIToken(w http.ResponseWriter, r *http.Request) {
	f.answerDone(w, r, f.acct.RevokeUserAPIToken(r.Context(), r.PathValue("instance_id"), r.PathValue("user_id"), r.PathValue("token_id")))
}

// answerDone answers 204 for a change that returns nothing, or its error.
func (f *Face) answerDone(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
