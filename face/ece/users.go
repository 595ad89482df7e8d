package ece

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"iamd"
	"iamd/face/wire"
	"iamd/server"
)

// The roles ECE knows; a user's other core roles are neither shown nor touched here.
const (
	rolePlatformAdmin     = "ece_platform_admin"
	rolePlatformViewer    = "ece_platform_viewer"
	roleDeploymentManager = "ece_deployment_manager"
	roleDeploymentViewer  = "ece_deployment_viewer"
)

var eceRoles = []string{rolePlatformAdmin, rolePlatformViewer, roleDeploymentManager, roleDeploymentViewer}

func isECERole(r string) bool { return slices.Contains(eceRoles, r) }

// userNamePattern is ECE's "not empty and no special characters".
var userNamePattern = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,128}$`)

type wireUser struct {
	UserName string       `json:"user_name"`
	Security wireSecurity `json:"security"`
	Metadata wireMetadata `json:"metadata"`
	FullName string       `json:"full_name,omitempty"`
	Email    string       `json:"email,omitempty"`
	Builtin  bool         `json:"builtin"`
}

type wireSecurity struct {
	Roles               []string      `json:"roles"`
	Permissions         []string      `json:"permissions"`
	ElevatedPermissions *wireElevated `json:"elevated_permissions,omitempty"`
	Enabled             bool          `json:"enabled"`
	SecurityRealm       wireRealm     `json:"security_realm"`
}

type wireElevated struct {
	Enabled   bool   `json:"enabled"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

type wireRealm struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type wireMetadata struct {
	CreatedBy    string `json:"created_by,omitempty"`
	CreatedAt    string `json:"created_at,omitempty"`
	UpdatedBy    string `json:"updated_by,omitempty"`
	UpdatedAt    string `json:"updated_at,omitempty"`
	FirstLoginAt string `json:"first_login_at,omitempty"`
	LastLoginAt  string `json:"last_login_at,omitempty"`
}

func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// realmOf splits the core's realm ("" for the instance's own directory, else
// "type:id") into ECE's security_realm.
func realmOf(u *iamd.User) wireRealm {
	if u.Realm == "" {
		return wireRealm{Type: "native", ID: "native"}
	}
	typ, id, _ := strings.Cut(u.Realm, ":")
	if id == "" {
		id = typ
	}
	return wireRealm{Type: typ, ID: id}
}

// rolesOf is a user's roles as ECE shows them.
func rolesOf(u *iamd.User) []string {
	if u.PlatformAdmin {
		// iamd's platform administrators hold every privilege: ECE's admin role, and
		// nothing less, whatever other roles they hold.
		return []string{rolePlatformAdmin}
	}
	roles := []string{}
	for _, r := range u.Roles {
		if isECERole(r) {
			roles = append(roles, r)
		}
	}
	return roles
}

// stamp is who made or changed a user as metadata.created_by and updated_by show it:
// "the Id of the user", its user_name, from logins (the core's ActorLogins). An actor
// no longer found (deleted, or another instance's administrator) is shown by the user
// id the core keeps of it; iamd itself (bootstrap, built-in users, the CLI), which is no
// user, by the name it acted under.
func stamp(id, name string, logins map[string]string) string {
	if id == "" {
		return name
	}
	if login, ok := logins[id]; ok {
		return login
	}
	return id
}

// actors returns the user names of the users who made and last changed users. When
// they cannot be read the stamps are shown as the core keeps them, by user id: the
// answer to a create or update that has happened must not be an error (a client would
// retry a create that was made), and a read shows the users it read.
func (f *Face) actors(r *http.Request, users ...*iamd.User) map[string]string {
	if len(users) == 0 {
		return nil
	}
	var ids []string
	for _, u := range users {
		ids = append(ids, u.CreatedBy, u.UpdatedBy)
	}
	logins, err := f.dir.ActorLogins(r.Context(), users[0].InstanceID, ids)
	if err != nil {
		level := slog.LevelWarn
		if server.ClientGone(r.Context()) {
			level = slog.LevelDebug
		}
		f.log.Log(r.Context(), level, "ece: the actors of audit stamps are shown by user id: their user names could not be read",
			"method", r.Method, "path", r.URL.Path, "code", iamd.ErrorCode(err))
		return nil
	}
	return logins
}

// writeUser answers one user.
func (f *Face) writeUser(w http.ResponseWriter, r *http.Request, u *iamd.User) {
	writeJSON(w, http.StatusOK, toWire(u, time.Now(), f.actors(r, u)))
}

func toWire(u *iamd.User, now time.Time, logins map[string]string) wireUser {
	roles := rolesOf(u)
	w := wireUser{UserName: u.LoginName, FullName: u.DisplayName, Email: u.Email, Builtin: u.Builtin,
		Security: wireSecurity{Roles: roles, Permissions: permissions(roles), Enabled: u.Status == iamd.UserActive, SecurityRealm: realmOf(u),
			ElevatedPermissions: &wireElevated{}},
		Metadata: wireMetadata{CreatedBy: stamp(u.CreatedBy, u.CreatedByName, logins), CreatedAt: timeText(&u.CreatedAt),
			UpdatedBy: stamp(u.UpdatedBy, u.UpdatedByName, logins), UpdatedAt: timeText(&u.UpdatedAt),
			FirstLoginAt: timeText(u.FirstLoginAt), LastLoginAt: timeText(u.LastLoginAt)}}
	if u.ElevatedUntil != nil && u.ElevatedUntil.After(now) {
		w.Security.ElevatedPermissions = &wireElevated{Enabled: true, ExpiresAt: timeText(u.ElevatedUntil)}
	}
	return w
}

func caller(r *http.Request) *iamd.Principal { return iamd.PrincipalFromContext(r.Context()) }

func userNotFound(name string) error {
	return newError(http.StatusNotFound, CodeUserNotFound, "The user "+name+" could not be found.", "user_name")
}

// findUser reads a user of the caller's instance by user name.
func (f *Face) findUser(r *http.Request, name string) (*iamd.User, error) {
	u, err := f.dir.FindUserByLogin(r.Context(), caller(r).InstanceID, name)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		return nil, userNotFound(name)
	}
	return u, err
}

func (f *Face) listUsers(w http.ResponseWriter, r *http.Request) {
	includeDisabled := false
	if v := r.URL.Query().Get("include_disabled"); v != "" {
		switch v {
		case "true":
			includeDisabled = true
		case "false":
		default:
			f.WriteError(w, r, newError(http.StatusBadRequest, CodeUserInvalid, "include_disabled must be true or false.", "include_disabled"))
			return
		}
	}
	filter := iamd.UserFilter{InstanceID: caller(r).InstanceID, Sort: []iamd.UserSort{{Key: iamd.SortByLoginName}},
		Limit: iamd.MaxPageSize, WithRoles: true}
	if !includeDisabled {
		filter.Status = iamd.UserActive
	}
	var users []*iamd.User
	for {
		page, err := f.dir.ListUsers(r.Context(), filter)
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		for i := range page.Users {
			users = append(users, &page.Users[i])
		}
		filter.Offset += len(page.Users)
		if len(page.Users) == 0 || filter.Offset >= page.Total {
			break
		}
	}
	logins := f.actors(r, users...)
	out := struct {
		Users []wireUser `json:"users"`
	}{Users: []wireUser{}}
	now := time.Now()
	for _, u := range users {
		out.Users = append(out.Users, toWire(u, now, logins))
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Face) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := f.findUser(r, r.PathValue("user_name"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.writeUser(w, r, u)
}

func (f *Face) getCurrentUser(w http.ResponseWriter, r *http.Request) {
	u, err := f.dir.Me(r.Context())
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.writeUser(w, r, u)
}

// userFields and securityFields are what a request body may carry; metadata, builtin
// and permissions are the server's to set and are refused by name.
var (
	userFields     = []string{"user_name", "security", "full_name", "email", "metadata", "builtin"}
	securityFields = []string{"roles", "permissions", "elevated_permissions", "password", "enabled", "security_realm"}
)

func restricted(field string) error {
	return newError(http.StatusBadRequest, CodeRestrictedField, "The field "+field+" cannot be set.", field)
}

// userBody is a decoded create or update body.
type userBody struct {
	obj, security wire.Object
}

func readUserBody(r *http.Request) (*userBody, error) {
	raw, err := wire.ReadBody(r)
	if err != nil {
		return nil, err
	}
	return decodeUserBody(raw)
}

func decodeUserBody(raw []byte) (*userBody, error) {
	obj, err := wire.DecodeObject(raw, userFields)
	if err != nil {
		return nil, err
	}
	for _, field := range []string{"metadata", "builtin"} {
		if _, ok := obj[field]; ok {
			return nil, restricted(field)
		}
	}
	b := &userBody{obj: obj, security: wire.Object{}}
	if raw, ok := obj["security"]; ok && string(raw) != "null" {
		if b.security, err = wire.DecodeObject(raw, securityFields); err != nil {
			return nil, wire.Within("security", err)
		}
	}
	if _, ok := b.security["permissions"]; ok {
		return nil, restricted("security.permissions")
	}
	if raw, ok := b.security["security_realm"]; ok && string(raw) != "null" {
		var realm struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &realm) != nil || realm.Type != "native" {
			return nil, restricted("security.security_realm")
		}
	}
	return b, nil
}

// defaultElevation is how long elevated permissions last when enabled without an expiry.
const defaultElevation = time.Hour

// elevation reads security.elevated_permissions: absent leaves them, null or
// {"enabled":false} takes them away, {"enabled":true} grants them until expires_at
// (default: an hour from now).
func (b *userBody) elevation(now time.Time) (*iamd.Elevation, error) {
	raw, ok := b.security["elevated_permissions"]
	if !ok {
		return nil, nil
	}
	if string(raw) == "null" {
		return &iamd.Elevation{}, nil
	}
	obj, err := wire.DecodeObject(raw, []string{"enabled", "expires_at"})
	if err != nil {
		return nil, wire.Within("security.elevated_permissions", err)
	}
	if _, ok := obj["enabled"]; !ok {
		return nil, newError(http.StatusBadRequest, CodeUserInvalid, "security.elevated_permissions.enabled is required.",
			"security.elevated_permissions.enabled")
	}
	enabled, err := obj.Bool("enabled", false)
	if err != nil {
		return nil, wire.Within("security.elevated_permissions", err)
	}
	if !enabled {
		return &iamd.Elevation{}, nil
	}
	until := now.Add(defaultElevation)
	if at, err := obj.String("expires_at"); err != nil {
		return nil, wire.Within("security.elevated_permissions", err)
	} else if at.Value != "" {
		if until, err = time.Parse(time.RFC3339, at.Value); err != nil {
			return nil, newError(http.StatusBadRequest, CodeUserInvalid, "security.elevated_permissions.expires_at must be an RFC 3339 date-time.",
				"security.elevated_permissions.expires_at")
		}
	}
	return &iamd.Elevation{Until: &until}, nil
}

// roles reads security.roles: present reports whether the field was given (null
// counting as given, meaning none).
func (b *userBody) roles() (roles []string, present bool, err error) {
	if _, ok := b.security["roles"]; !ok {
		return nil, false, nil
	}
	roles, err = b.security.Strings("roles")
	if err != nil {
		return nil, true, newError(http.StatusBadRequest, CodeRolesInvalid, "security.roles must be an array of role names.", "security.roles")
	}
	if roles != nil { // [] asks for no roles, where null names none
		roles = append([]string{}, slices.Compact(slices.Sorted(slices.Values(roles)))...)
	}
	// ECE's vocabulary holds its four roles; which of them go together is the core's rule.
	var unknown []string
	for _, r := range roles {
		if !isECERole(r) {
			unknown = append(unknown, r)
		}
	}
	if len(unknown) > 0 {
		return nil, true, newError(http.StatusBadRequest, CodeRolesInvalid,
			"Some of the provided roles are invalid: "+strings.Join(unknown, ", ")+".", "security.roles")
	}
	return roles, true, nil
}

// withECERoles is a user's roles with its ECE roles replaced by ece: the core's other
// roles are neither shown nor touched here.
func withECERoles(current, ece []string) []string {
	return append(slices.DeleteFunc(slices.Clone(current), isECERole), ece...)
}

func (f *Face) createUser(w http.ResponseWriter, r *http.Request) {
	inst := caller(r).InstanceID
	u, err := f.dir.CreateUserFrom(r.Context(), inst, func() (*iamd.User, iamd.CreateUserOptions, error) {
		var none iamd.CreateUserOptions
		b, err := readUserBody(r)
		if err != nil {
			return nil, none, err
		}
		name, err := b.obj.String("user_name")
		if err != nil || !userNamePattern.MatchString(name.Value) {
			return nil, none, newError(http.StatusBadRequest, CodeUserNameInvalid,
				"The provided user name is invalid. Check that it is not empty and it does not contain special characters.", "user_name")
		}
		roles, _, err := b.roles()
		if err != nil {
			return nil, none, err
		}
		// The rest of a create body reads as a merge patch onto an empty user.
		profile, err := b.update()
		if err != nil {
			return nil, none, err
		}
		password, err := b.security.String("password")
		if err != nil {
			return nil, none, wire.Within("security", err)
		}
		in := &iamd.User{InstanceID: inst, LoginName: name.Value, Status: iamd.UserActive, Roles: roles}
		profile.Apply(in)
		return in, iamd.CreateUserOptions{Password: password.Value}, nil
	})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	// ECE answers a create with 200; its Go client treats 201 as an error.
	f.writeUser(w, r, u)
}

// update reads the profile part of a merge patch: absent leaves a field, null resets it.
func (b *userBody) update() (upd iamd.UserUpdate, err error) {
	for field, dst := range map[string]**string{"full_name": &upd.DisplayName, "email": &upd.Email} {
		v, err := b.obj.String(field)
		if err != nil {
			return upd, err
		}
		if v.Set {
			s := v.Value
			*dst = &s
		}
	}
	if upd.Elevation, err = b.elevation(time.Now()); err != nil {
		return upd, err
	}
	if _, ok := b.security["enabled"]; ok {
		enabled, err := b.security.Bool("enabled", true) // null: the default, enabled
		if err != nil {
			return upd, wire.Within("security", err)
		}
		status := iamd.UserActive
		if !enabled {
			status = iamd.UserSuspended
		}
		upd.Status = &status
	}
	return upd, nil
}

// changes are what an update body asks for; password is "" when it sets none.
type changes struct {
	upd        iamd.UserUpdate
	roles      []string
	rolesGiven bool
	password   string
}

func (b *userBody) changes() (*changes, error) {
	upd, err := b.update()
	if err != nil {
		return nil, err
	}
	roles, rolesGiven, err := b.roles()
	if err != nil {
		return nil, err
	}
	password, err := b.security.String("password")
	if err != nil {
		return nil, wire.Within("security", err)
	}
	return &changes{upd: upd, roles: roles, rolesGiven: rolesGiven, password: password.Value}, nil
}

// checkName refuses a body whose user_name differs from the path's: user names never change.
func (b *userBody) checkName(name string) error {
	v, err := b.obj.String("user_name")
	if err != nil {
		return err
	}
	if v.Set && !v.Null && !strings.EqualFold(v.Value, name) {
		return newError(http.StatusBadRequest, CodeRestrictedField, "A user's user_name cannot be changed.", "user_name")
	}
	return nil
}

func (f *Face) updateUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user_name")
	raw, err := wire.ReadBody(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	// The body is read once the core has authorized the caller on the user.
	u, err := f.dir.ChangeUser(r.Context(), caller(r).InstanceID, iamd.UserRef{LoginName: name}, func(cur *iamd.User) (*iamd.UserChange, error) {
		b, err := decodeUserBody(raw)
		if err != nil {
			return nil, err
		}
		if err := b.checkName(name); err != nil {
			return nil, err
		}
		c, err := b.changes()
		if err != nil {
			return nil, err
		}
		return c.change(cur, false), nil
	})
	if iamd.ErrorCode(err) == iamd.ENOTFOUND && iamd.ErrorField(err) == "" {
		err = userNotFound(name)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.writeUser(w, r, u)
}

// change is what an update body asks of the user cur, as one change of the core. Roles
// sent as the user is shown (ECE's clients repeat them) are no change, nor, for a user
// changing itself, roles: null; an empty list asks to drop them all.
func (c *changes) change(cur *iamd.User, self bool) *iamd.UserChange {
	ch := &iamd.UserChange{UserUpdate: c.upd}
	if c.rolesGiven && !(self && (c.roles == nil || slices.Equal(c.roles, rolesOf(cur)))) {
		roles := withECERoles(cur.Roles, c.roles)
		ch.Roles = &roles
	}
	if c.password != "" {
		ch.Password = &iamd.NewPassword{Clear: c.password}
	}
	return ch
}

// updateCurrentUser lets a user change its own password, full name and email; roles,
// state and elevation may be repeated as they are (Elastic's client sends them) but not
// changed: the core refuses, and the refusal is ECE's user.restricted_field.
func (f *Face) updateCurrentUser(w http.ResponseWriter, r *http.Request) {
	b, err := readUserBody(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	c, err := b.changes()
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	u, err := f.dir.ChangeOwnUser(r.Context(), func(cur *iamd.User) (*iamd.UserChange, error) {
		if err := b.checkName(cur.LoginName); err != nil {
			return nil, err
		}
		return c.change(cur, true), nil
	})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.writeUser(w, r, u)
}

func (f *Face) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user_name")
	err := f.dir.DeleteUser(r.Context(), caller(r).InstanceID, iamd.UserRef{LoginName: name})
	switch {
	case iamd.ErrorCode(err) == iamd.ENOTFOUND:
		err = userNotFound(name)
	case iamd.ErrorRule(err) == iamd.RuleBuiltin:
		err = newError(http.StatusBadRequest, CodeRestrictedDeletion, iamd.ErrorMessage(err), "user_name")
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
