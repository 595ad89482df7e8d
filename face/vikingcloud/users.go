package vikingcloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"iamd/face/wire"

	"iamd"
)

// Authenticators: the local one signs in with passwords through the accounts core; the
// SSO one is for users an identity provider signs in (isSsoUser, no password here).
const (
	authLocal = "local"
	authSSO   = "sso"
)

type userKey struct {
	Username      string `json:"username"`
	Authenticator string `json:"authenticator"`
}

type privilegeOut struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type roleOut struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Internal    bool           `json:"internal"`
	Privileges  []privilegeOut `json:"privileges"`
}

type userOut struct {
	UserKey                   userKey        `json:"userKey"`
	OrgID                     string         `json:"orgId"`
	Email                     string         `json:"email"`
	Enabled                   bool           `json:"enabled"`
	Locked                    bool           `json:"locked"`
	ForcePasswordChange       bool           `json:"forcePasswordChange"`
	Expired                   bool           `json:"expired"`
	CredentialsExpired        bool           `json:"credentialsExpired"`
	UsingMfa                  bool           `json:"usingMfa"`
	Notes                     string         `json:"notes"`
	CreatedInstant            string         `json:"createdInstant"`
	LastUpdatedInstant        string         `json:"lastUpdatedInstant"`
	CreatedBy                 string         `json:"createdBy"`
	LastUpdatedBy             string         `json:"lastUpdatedBy"`
	LastName                  string         `json:"lastName"`
	FirstName                 string         `json:"firstName"`
	PrimaryPhone              string         `json:"primaryPhone"`
	PrimaryPhoneCountryCode   string         `json:"primaryPhoneCountryCode"`
	PrimaryPhoneExtension     string         `json:"primaryPhoneExtension"`
	LastSuccessfulAuthAttempt *string        `json:"lastSuccessfulAuthAttempt"`
	LastFailedAuthAttempt     *string        `json:"lastFailedAuthAttempt"`
	TimeZone                  string         `json:"timeZone"`
	Locale                    string         `json:"locale"`
	Roles                     []roleOut      `json:"roles"`
	Privileges                []privilegeOut `json:"privileges"`
	AllRoles                  []roleOut      `json:"allRoles"`
	AllPrivileges             []privilegeOut `json:"allPrivileges"`
	ID                        string         `json:"id"`
	IsSsoUser                 bool           `json:"isSsoUser"`
}

// privilegeDescriptions say what each of the core's privileges allows.
var privilegeDescriptions = map[string]string{
	iamd.PrivilegeUserRead: "Read users", iamd.PrivilegeUserWrite: "Create and change users",
	iamd.PrivilegeUserDelete: "Delete users", iamd.PrivilegeGroupRead: "Read groups",
	iamd.PrivilegeGroupWrite: "Create and change groups", iamd.PrivilegeAuditRead: "Read the audit log",
	iamd.PrivilegeRoleRead: "Read roles", iamd.PrivilegeRoleWrite: "Create roles and grant them",
	iamd.PrivilegeInstanceAdmin: "Create instances",
}

func privileges(names []string) []privilegeOut {
	out := make([]privilegeOut, 0, len(names))
	for _, n := range names {
		out = append(out, privilegeOut{Name: n, Description: privilegeDescriptions[n]})
	}
	return out
}

func toRole(r iamd.Role) roleOut {
	return roleOut{Name: r.Name, Description: r.Description, Internal: r.Builtin, Privileges: privileges(r.Privileges)}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optStamp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := stamp(*t)
	return &s
}

// toWire shows a user with its roles as objects and its effective grants. Role
// definitions need ROLE_READ; a caller without it sees roles by name.
func (f *Face) toWire(r *http.Request, u *iamd.User, defs map[string]iamd.Role) (userOut, error) {
	allRoles, allPrivileges, err := f.dir.EffectiveGrants(r.Context(), u.InstanceID, u.ID)
	if err != nil {
		return userOut{}, err
	}
	return f.wireUser(u, defs, iamd.Grants{Roles: allRoles, Privileges: allPrivileges}), nil
}

// wireUser is u as VikingCloud shows it, with all the roles and privileges it holds.
func (f *Face) wireUser(u *iamd.User, defs map[string]iamd.Role, all iamd.Grants) userOut {
	authenticator := authLocal
	if u.SSO {
		authenticator = authSSO
	}
	now := f.cfg.Now()
	out := userOut{UserKey: userKey{u.LoginName, authenticator}, OrgID: u.Organization, Email: u.Email,
		Enabled: u.Status == iamd.UserActive, Locked: u.LockedUntil != nil && u.LockedUntil.After(now),
		ForcePasswordChange: u.TemporaryPassword, Expired: u.Expired, CredentialsExpired: u.CredentialsExpired,
		UsingMfa: u.MFAEnabled, Notes: u.Description, CreatedInstant: stamp(u.CreatedAt), LastUpdatedInstant: stamp(u.UpdatedAt),
		CreatedBy: u.CreatedByName, LastUpdatedBy: u.UpdatedByName, LastName: u.FamilyName, FirstName: u.GivenName,
		PrimaryPhone: u.PhoneNumber, PrimaryPhoneCountryCode: u.PhoneCountryCode, PrimaryPhoneExtension: u.PhoneExtension,
		LastSuccessfulAuthAttempt: optStamp(u.LastLoginAt), LastFailedAuthAttempt: optStamp(u.LastFailedLoginAt),
		TimeZone: u.TimeZone, Locale: u.Locale, Privileges: privileges(u.Privileges), ID: u.ID, IsSsoUser: u.SSO}
	role := func(name string) roleOut {
		if d, ok := defs[name]; ok {
			return toRole(d)
		}
		return roleOut{Name: name, Privileges: []privilegeOut{}}
	}
	out.Roles = []roleOut{}
	for _, n := range u.Roles {
		out.Roles = append(out.Roles, role(n))
	}
	out.AllRoles = []roleOut{}
	for _, n := range all.Roles {
		out.AllRoles = append(out.AllRoles, role(n))
	}
	out.AllPrivileges = privileges(all.Privileges)
	return out
}

// roleDefinitions maps the instance's roles by name, or nothing for a caller without
// ROLE_READ.
func (f *Face) roleDefinitions(r *http.Request, instanceID string) (map[string]iamd.Role, error) {
	roles, err := f.dir.ListRoles(r.Context(), instanceID)
	if iamd.ErrorCode(err) == iamd.EFORBIDDEN {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defs := make(map[string]iamd.Role, len(roles))
	for _, role := range roles {
		defs[role.Name] = role
	}
	return defs, nil
}

func (f *Face) writeUser(w http.ResponseWriter, r *http.Request, u *iamd.User) {
	defs, err := f.roleDefinitions(r, u.InstanceID)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out, err := f.toWire(r, u, defs)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type named struct {
	Name string `json:"name"`
}

// userIn is a User as sent: nil is absent. The read-only attributes (stamps, allRoles,
// allPrivileges, id, the sign-in times) are accepted and ignored.
type userIn struct {
	UserKey                 *userKey `json:"userKey"`
	Password                *string  `json:"password"`
	OrgID                   *string  `json:"orgId"`
	Email                   *string  `json:"email"`
	Enabled                 *bool    `json:"enabled"`
	Locked                  *bool    `json:"locked"`
	ForcePasswordChange     *bool    `json:"forcePasswordChange"`
	Expired                 *bool    `json:"expired"`
	CredentialsExpired      *bool    `json:"credentialsExpired"`
	UsingMfa                *bool    `json:"usingMfa"`
	MfaSecret               *string  `json:"mfaSecret"`
	SharedSecret            *string  `json:"sharedSecret"`
	Notes                   *string  `json:"notes"`
	LastName                *string  `json:"lastName"`
	FirstName               *string  `json:"firstName"`
	PrimaryPhone            *string  `json:"primaryPhone"`
	PrimaryPhoneCountryCode *string  `json:"primaryPhoneCountryCode"`
	PrimaryPhoneExtension   *string  `json:"primaryPhoneExtension"`
	TimeZone                *string  `json:"timeZone"`
	Locale                  *string  `json:"locale"`
	Roles                   *[]named `json:"roles"`
	Privileges              *[]named `json:"privileges"`
	IsSsoUser               *bool    `json:"isSsoUser"`
}

// decode reads a JSON body as Jackson does in Spring Boot: unknown attributes ignored,
// a value of the wrong type refused naming the attribute and the JSON value it takes.
func decode(r *http.Request, v any) error {
	raw, err := wire.ReadBody(r)
	var body *wire.BodyError
	if errors.As(err, &body) {
		return badRequest(body.Message)
	} else if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field, want := wire.TypeError(typeErr, v)
			if field == "" {
				return badRequest("JSON parse error: the request body must be " + want + ".")
			}
			return badRequest("JSON parse error: field \"" + field + "\" must be " + want + ".")
		}
		return badRequest("JSON parse error: the request body is not a JSON object.")
	}
	if dec.More() {
		return badRequest("JSON parse error: more than one JSON value.")
	}
	return nil
}

// checkKey holds a UserKey to VikingCloud's rules: a username of at least one
// character without "/" or "%2F", and an authenticator iamd has, if one is named.
func checkKey(k *userKey) error {
	switch {
	case k == nil:
		return badRequest("Field \"userKey\" cannot be null")
	case k.Username == "":
		return badRequest("Field \"userKey.username\" must be at least one character")
	case strings.Contains(k.Username, "/") || strings.Contains(strings.ToUpper(k.Username), "%2F"):
		return badRequest("Field \"userKey.username\" cannot contain \"/\" or \"%2F\"")
	case k.Authenticator != "" && k.Authenticator != authLocal && k.Authenticator != authSSO:
		return badRequest("Field \"userKey.authenticator\" must be \"local\" (passwords) or \"sso\" (an identity provider)")
	}
	return nil
}

// createKey is the UserKey a create names, after checkKey: without an authenticator,
// isSsoUser true chooses sso, and local is the default. A local authenticator with
// isSsoUser true is refused by check, never changed.
func (in *userIn) createKey() userKey {
	k := *in.UserKey
	if k.Authenticator == "" {
		k.Authenticator = authLocal
		if in.IsSsoUser != nil && *in.IsSsoUser {
			k.Authenticator = authSSO
		}
	}
	return k
}

// updateKey is the UserKey an update names, after checkKey: the userKey alone names the
// user to change, its authenticator local when left out, as in every lookup by key;
// isSsoUser true beside it then contradicts a local authenticator (see check).
func (in *userIn) updateKey() userKey {
	k := *in.UserKey
	if k.Authenticator == "" {
		k.Authenticator = authLocal
	}
	return k
}

func names(list *[]named) []string {
	if list == nil {
		return nil
	}
	out := make([]string, 0, len(*list))
	for _, n := range *list {
		out = append(out, n.Name)
	}
	return out
}

// mfaSecret is the TOTP secret sent (mfaSecret or sharedSecret; the same when both) and
// the attribute it came in.
func (in *userIn) mfaSecret() (secret, field string, err error) {
	for _, s := range []struct {
		value *string
		field string
	}{{in.MfaSecret, "mfaSecret"}, {in.SharedSecret, "sharedSecret"}} {
		if s.value != nil && *s.value != "" {
			if secret != "" && secret != *s.value {
				return "", "", badRequest("Fields \"mfaSecret\" and \"sharedSecret\" must be the same secret")
			}
			if secret == "" {
				secret, field = *s.value, s.field
			}
		}
	}
	return secret, field, nil
}

// fields is the vocabulary the core's refusals of in are said in: the MFA secret under
// the name it was sent.
func (in *userIn) fields() map[string]string {
	if _, field, _ := in.mfaSecret(); field != "" && field != userFields[iamd.FieldMFASecret] {
		return with(userFields, iamd.FieldMFASecret, field)
	}
	return userFields
}

// check reads what the core has no words for and refuses what contradicts itself: the
// phone's pair, which VikingCloud's API requires together; MFA's secret, which it takes
// under two names, with usingMfa false; isSsoUser true with the key's authenticator
// local (k is createKey or updateKey). It returns the MFA secret sent.
func (in *userIn) check(k userKey) (string, error) {
	if in.PrimaryPhone != nil && *in.PrimaryPhone != "" && (in.PrimaryPhoneCountryCode == nil || *in.PrimaryPhoneCountryCode == "") {
		return "", badRequest("Field \"primaryPhoneCountryCode\" is required with primaryPhone")
	}
	// isSsoUser false is its documented default, which clients send unasked: only true
	// says something, and it contradicts a local authenticator.
	if in.IsSsoUser != nil && *in.IsSsoUser && k.Authenticator == authLocal {
		said := "\"local\""
		if in.UserKey.Authenticator == "" {
			said += " (left out)"
		}
		return "", badRequest("Fields \"isSsoUser\" and \"userKey.authenticator\" contradict each other: isSsoUser is true " +
			"and the authenticator " + said + "; an SSO user's authenticator is \"sso\"")
	}
	secret, field, err := in.mfaSecret()
	if err != nil {
		return "", err
	}
	if secret != "" && in.UsingMfa != nil && !*in.UsingMfa {
		return "", badRequest(fmt.Sprintf("Fields \"usingMfa\" and %q contradict each other: usingMfa is false and a secret was sent; "+
			"send usingMfa true with the secret to turn MFA on, or no secret to turn it off", field))
	}
	return secret, nil
}

// mfa is the MFA change in asks of a user whose MFA is on or not: on with the secret
// sent, off, or none (usingMfa repeated as it is).
func (in *userIn) mfa(secret string, enabled bool) *iamd.MFASetting {
	switch {
	case secret != "":
		return &iamd.MFASetting{Enabled: true, Secret: secret}
	case in.UsingMfa == nil || *in.UsingMfa == enabled:
		return nil
	}
	return &iamd.MFASetting{Enabled: *in.UsingMfa}
}

// update collects the profile, grants and state of in as the core's change.
func (in *userIn) update() iamd.UserUpdate {
	var upd iamd.UserUpdate
	upd.Organization, upd.Email, upd.Description = in.OrgID, in.Email, in.Notes
	upd.FamilyName, upd.GivenName, upd.PhoneNumber, upd.PhoneExtension = in.LastName, in.FirstName, in.PrimaryPhone, in.PrimaryPhoneExtension
	upd.TimeZone, upd.Locale = in.TimeZone, in.Locale
	if in.PrimaryPhoneCountryCode != nil {
		code := iamd.CallingCode(*in.PrimaryPhoneCountryCode)
		upd.PhoneCountryCode = &code
	}
	if in.Enabled != nil {
		status := iamd.UserSuspended
		if *in.Enabled {
			status = iamd.UserActive
		}
		upd.Status = &status
	}
	upd.Expired, upd.CredentialsExpired, upd.Locked = in.Expired, in.CredentialsExpired, in.Locked
	upd.MustChangePassword = in.ForcePasswordChange
	if in.Roles != nil {
		roles := names(in.Roles)
		upd.Roles = &roles
	}
	if in.Privileges != nil {
		privs := names(in.Privileges)
		upd.Privileges = &privs
	}
	return upd
}

// createUser is PUT: 409 when the userKey's username is taken. The user, its state,
// grants, password and MFA are one change of the core.
func (f *Face) createUser(w http.ResponseWriter, r *http.Request) {
	var in userIn
	inst := iamd.PrincipalFromContext(r.Context()).InstanceID
	created, err := f.dir.CreateUserFrom(r.Context(), inst, func() (*iamd.User, iamd.CreateUserOptions, error) {
		if err := decode(r, &in); err != nil {
			return nil, iamd.CreateUserOptions{}, err
		}
		if err := checkKey(in.UserKey); err != nil {
			return nil, iamd.CreateUserOptions{}, err
		}
		k := in.createKey()
		secret, err := in.check(k)
		if err != nil {
			return nil, iamd.CreateUserOptions{}, err
		}
		u := &iamd.User{InstanceID: inst, LoginName: k.Username, SSO: k.Authenticator == authSSO, Status: iamd.UserActive}
		upd := in.update()
		upd.Apply(u)
		opts := iamd.CreateUserOptions{Locked: in.Locked != nil && *in.Locked, MFA: in.mfa(secret, false)}
		if in.Password != nil {
			opts.Password = *in.Password
		}
		return u, opts, nil
	})
	if err != nil {
		f.writeErrorIn(w, r, err, in.fields())
		return
	}
	f.writeUser(w, r, created)
}

// byKey finds the user a UserKey names in the caller's instance, or 404.
func (f *Face) byKey(r *http.Request, k userKey) (*iamd.User, error) {
	if err := checkKey(&k); err != nil {
		return nil, err
	}
	if k.Authenticator == "" {
		k.Authenticator = authLocal
	}
	u, err := f.dir.FindUserByLogin(r.Context(), iamd.PrincipalFromContext(r.Context()).InstanceID, k.Username)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		return nil, noUser(k)
	}
	if err != nil {
		return nil, err
	}
	if u.SSO != (k.Authenticator == authSSO) {
		return nil, noUser(k)
	}
	return u, nil
}

func noUser(k userKey) error {
	return &faceError{http.StatusNotFound, "No user " + k.Username + " of authenticator " + k.Authenticator + "."}
}

// updateUser is POST: the user named by userKey gets every attribute sent; those left
// out stay as they are. Profile, state, grants, password and MFA are one change.
//
// The body is checked only once the core has authorized the caller: ChangeUser checks
// USER_WRITE on the instance, finds the user and checks that the caller covers it, and
// only then calls the edit, which checks the body first. Checking before the lookup would
// check before the cover check, so a user that is not there is told apart afterwards: a
// 404 for the user (USER_WRITE held, nobody to cover) with a body that contradicts
// itself answers the contradiction, 400, as it would for a user that is there.
func (f *Face) updateUser(w http.ResponseWriter, r *http.Request) {
	var in userIn
	if err := decode(r, &in); err != nil {
		f.WriteError(w, r, err)
		return
	}
	if err := checkKey(in.UserKey); err != nil {
		f.WriteError(w, r, err)
		return
	}
	k := in.updateKey()
	inst := iamd.PrincipalFromContext(r.Context()).InstanceID
	next, err := f.dir.ChangeUser(r.Context(), inst, iamd.UserRef{LoginName: k.Username}, func(cur *iamd.User) (*iamd.UserChange, error) {
		secret, err := in.check(k)
		if err != nil {
			return nil, err
		}
		if cur.SSO != (k.Authenticator == authSSO) {
			return nil, noUser(k)
		}
		change := &iamd.UserChange{UserUpdate: in.update(), MFA: in.mfa(secret, cur.MFAEnabled)}
		if in.Password != nil && *in.Password != "" {
			change.Password = &iamd.NewPassword{Clear: *in.Password, Temporary: in.ForcePasswordChange != nil && *in.ForcePasswordChange}
		}
		return change, nil
	})
	if iamd.ErrorCode(err) == iamd.ENOTFOUND && iamd.ErrorField(err) == "" {
		err = noUser(k)
		if _, bad := in.check(k); bad != nil {
			err = bad
		}
	}
	if err != nil {
		f.writeErrorIn(w, r, err, in.fields())
		return
	}
	f.writeUser(w, r, next)
}

func (f *Face) findUser(w http.ResponseWriter, r *http.Request) {
	u, err := f.byKey(r, userKey{r.PathValue("username"), r.PathValue("authenticator")})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.writeUser(w, r, u)
}

// deleteUser removes the user the path's key names: found, then deleted at the version
// found, so that a user changed meanwhile (another authenticator, say) is not deleted.
func (f *Face) deleteUser(w http.ResponseWriter, r *http.Request) {
	u, err := f.byKey(r, userKey{r.PathValue("username"), r.PathValue("authenticator")})
	if err == nil {
		err = f.dir.DeleteUser(r.Context(), u.InstanceID, iamd.UserRef{ID: u.ID, Version: u.Version})
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
