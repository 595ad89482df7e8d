package iamd

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
)

// UserStatus is the administrative state of a user. Faces show it as Ncloud's status,
// ECE's security.enabled, VikingCloud's enabled and SCIM's active.
type UserStatus string

const (
	UserActive    UserStatus = "active"
	UserSuspended UserStatus = "suspended"
)

// User is the one canonical record behind every face: the union of the faces' fields
// (see the field mapping in design.md). Empty strings mean "not set".
type User struct {
	ID         string // 32 lowercase hex characters
	InstanceID string
	LoginName  string // unique per instance, compared case-insensitively
	Realm      string // authenticator / security realm; "" is the instance's own directory

	DisplayName string
	GivenName   string
	FamilyName  string

	Email            string
	EmailVerified    bool
	PhoneCountryCode string // "+" and the calling code, e.g. "+82"
	PhoneNumber      string
	PhoneExtension   string
	PhoneVerified    bool

	EmployeeNumber string
	Department     string
	BusinessUnit   string
	Manager        string
	Organization   string
	Description    string
	TimeZone       string // IANA zone name
	Locale         string
	ExternalID     string
	// Extra is a JSON object of attributes a face keeps that no canonical field holds
	// (SCIM's title, addresses, further phone numbers…), as that face wrote them; "" is
	// none. At most MaxExtraLen bytes.
	Extra string

	Status        UserStatus
	ConsoleDenied bool // Ncloud accessRules.consoleAccessAllowed, negated so the zero value allows
	APIDenied     bool // Ncloud accessRules.apiAccessAllowed, negated likewise
	Builtin       bool // a system user that cannot be deleted
	SSO           bool // authenticated elsewhere; has no password here
	PlatformAdmin bool // may act on every instance with every privilege

	// Account state, driven by the accounts core.
	PasswordHash        string // PHC string; never leaves the core
	TemporaryPassword   bool   // the next sign-in must change the password
	PasswordChangedAt   *time.Time
	PasswordFailedCount int
	LockedUntil         *time.Time
	Expired             bool
	CredentialsExpired  bool
	MFAEnabled          bool
	ElevatedUntil       *time.Time
	FirstLoginAt        *time.Time
	LastLoginAt         *time.Time
	LastFailedLoginAt   *time.Time
	// PasswordHistoryCount is how many previous passwords are remembered (and so may
	// not be reused); SCP shows it as password_reuse_count.
	PasswordHistoryCount int

	Roles      []string   // direct role names
	Privileges []string   // direct privilege names
	Groups     []GroupRef // direct memberships
	// InheritedGroups are the groups the user is in only through groups nested in them.
	InheritedGroups []GroupRef

	CreatedAt     time.Time
	CreatedBy     string // the actor's user id
	CreatedByName string // the actor's display name at the time
	UpdatedAt     time.Time
	UpdatedBy     string
	UpdatedByName string
	Version       int64 // incremented by every change; SCIM's ETag, optimistic concurrency
}

// GroupRef names a group a user belongs to.
type GroupRef struct {
	ID   string
	Name string
}

// Canonical field names, used in Error.Field. Faces translate them to their wire names.
const (
	FieldID               = "id"
	FieldInstanceID       = "instance_id"
	FieldLoginName        = "login_name"
	FieldRealm            = "realm"
	FieldDisplayName      = "display_name"
	FieldGivenName        = "given_name"
	FieldFamilyName       = "family_name"
	FieldEmail            = "email"
	FieldPhoneCountryCode = "phone_country_code"
	FieldPhoneNumber      = "phone_number"
	FieldPhoneExtension   = "phone_extension"
	FieldEmployeeNumber   = "employee_number"
	FieldDepartment       = "department"
	FieldBusinessUnit     = "business_unit"
	FieldManager          = "manager"
	FieldOrganization     = "organization"
	FieldDescription      = "description"
	FieldTimeZone         = "time_zone"
	FieldLocale           = "locale"
	FieldExternalID       = "external_id"
	FieldExtra            = "extra"
	FieldTags             = "tags"
	FieldMFASecret        = "mfa_secret"
	FieldStatus           = "status"
	FieldGroupIDs         = "group_ids"
	FieldName             = "name"
	FieldPassword         = "password"
	FieldCurrentPassword  = "current_password"
	FieldCode             = "code"
	FieldExpiresAt        = "expires_at"
	FieldPasswordHash     = "password_hash"
	FieldPrivileges       = "privileges"
	FieldRoles            = "roles"
	FieldElevatedUntil    = "elevated_until"
	FieldUserIDs          = "user_ids"
	FieldMemberGroupIDs   = "member_group_ids"
	FieldPage             = "page"
	FieldSize             = "size"
	FieldSort             = "sort"
	FieldFilter           = "filter"
	FieldAccessKey        = "access_key"
	FieldVersion          = "version"
)

// UserUpdate is a partial change: a nil field stays as it is; a pointer to the zero
// value clears it.
type UserUpdate struct {
	DisplayName      *string
	GivenName        *string
	FamilyName       *string
	Email            *string
	EmailVerified    *bool
	PhoneCountryCode *string
	PhoneNumber      *string
	PhoneExtension   *string
	PhoneVerified    *bool
	EmployeeNumber   *string
	Department       *string
	BusinessUnit     *string
	Manager          *string
	Organization     *string
	Description      *string
	TimeZone         *string
	Locale           *string
	ExternalID       *string
	Extra            *string
	Status           *UserStatus
	ConsoleDenied    *bool
	APIDenied        *bool
	// Elevation, when set, grants elevated permissions until Elevation.Until, or with
	// a nil Until takes them away.
	Elevation *Elevation
	// Roles, when set, replaces the user's direct roles in the same change (which then
	// needs ROLE_WRITE besides USER_WRITE).
	Roles *[]string
	// Privileges, when set, replaces the user's direct privileges, as Roles does.
	Privileges *[]string
	// Account state an administrator sets (VikingCloud's user carries it): Expired and
	// CredentialsExpired as the core enforces them at sign-in; Locked true locks the user
	// until unlocked, false unlocks it and clears the failure count.
	Expired, CredentialsExpired, Locked *bool
	// MustChangePassword makes the password temporary: the next sign-in may only change it.
	MustChangePassword *bool
}

// LockedIndefinitely is the LockedUntil of a user an administrator locked: until it is
// unlocked.
var LockedIndefinitely = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Tag is a key/value label on a user.
type Tag struct{ Key, Value string }

// MaxTagsPerUser bounds a user's tags.
const MaxTagsPerUser = 50

// Elevation is a change to a user's elevated permissions (ECE's elevated_permissions).
type Elevation struct{ Until *time.Time }

// Apply copies every set field of upd into u.
func (upd *UserUpdate) Apply(u *User) {
	setString := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	setBool := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	setString(&u.DisplayName, upd.DisplayName)
	setString(&u.GivenName, upd.GivenName)
	setString(&u.FamilyName, upd.FamilyName)
	setString(&u.Email, upd.Email)
	setBool(&u.EmailVerified, upd.EmailVerified)
	setString(&u.PhoneCountryCode, upd.PhoneCountryCode)
	setString(&u.PhoneNumber, upd.PhoneNumber)
	setString(&u.PhoneExtension, upd.PhoneExtension)
	setBool(&u.PhoneVerified, upd.PhoneVerified)
	setString(&u.EmployeeNumber, upd.EmployeeNumber)
	setString(&u.Department, upd.Department)
	setString(&u.BusinessUnit, upd.BusinessUnit)
	setString(&u.Manager, upd.Manager)
	setString(&u.Organization, upd.Organization)
	setString(&u.Description, upd.Description)
	setString(&u.TimeZone, upd.TimeZone)
	setString(&u.Locale, upd.Locale)
	setString(&u.ExternalID, upd.ExternalID)
	setString(&u.Extra, upd.Extra)
	if upd.Status != nil {
		u.Status = *upd.Status
	}
	setBool(&u.ConsoleDenied, upd.ConsoleDenied)
	setBool(&u.APIDenied, upd.APIDenied)
	if upd.Elevation != nil {
		u.ElevatedUntil = upd.Elevation.Until
	}
	if upd.Roles != nil && !slices.Equal(u.Roles, *upd.Roles) {
		u.Roles = slices.Clone(*upd.Roles)
	}
	if upd.Privileges != nil && !slices.Equal(u.Privileges, *upd.Privileges) {
		u.Privileges = slices.Clone(*upd.Privileges)
	}
	setBool(&u.Expired, upd.Expired)
	setBool(&u.TemporaryPassword, upd.MustChangePassword)
	setBool(&u.CredentialsExpired, upd.CredentialsExpired)
	if upd.Locked != nil {
		switch locked := u.LockedUntil != nil && u.LockedUntil.Equal(LockedIndefinitely); {
		case *upd.Locked && !locked:
			until := LockedIndefinitely
			u.LockedUntil = &until
		case !*upd.Locked && u.LockedUntil != nil:
			u.LockedUntil, u.PasswordFailedCount = nil, 0
		}
	}
	// A changed email or phone is no longer the one that was verified.
	if upd.Email != nil && upd.EmailVerified == nil {
		u.EmailVerified = false
	}
	if (upd.PhoneNumber != nil || upd.PhoneCountryCode != nil) && upd.PhoneVerified == nil {
		u.PhoneVerified = false
	}
}

// UserSort orders a user listing.
type UserSort struct {
	Key        string // one of the SortBy* constants
	Descending bool
}

const (
	SortByCreatedAt = "created_at"
	SortByLoginName = "login_name"
	SortByName      = "display_name"
	SortByUpdatedAt = "updated_at"
)

// UserFilter selects users of one instance. Zero fields do not filter.
type UserFilter struct {
	InstanceID      string
	LoginName       string // exact match, case-insensitive
	ExcludedGroupID string // users who are not members of this group
	GroupID         string // users who are members of this group
	Status          UserStatus
	Sort            []UserSort // ties are always broken by id
	Offset          int
	Limit           int // 0 means DefaultPageSize; at most MaxPageSize
	// WithRoles fills in each listed user's direct Roles, for faces that show them in
	// listings (ECE); it costs one more query per page.
	WithRoles bool
	// WithGroups fills in each listed user's Groups and InheritedGroups (SCIM's groups
	// attribute); one more query per page.
	WithGroups bool
	// Where, when set, is a further condition (SCIM's filters); see ValidateWhere.
	Where Where
	// Prefix, when set, keeps the users whose login name or display name starts with it,
	// or, when it holds an @, whose email does, ignoring case: a search as people type one. With NoTotal and the order of
	// login names, the stores answer it at a cost that does not grow with the directory.
	Prefix string
	// MayLag lets the store answer from a standby that may lag the primary (see
	// sqlstore.DB.ReadStandby): the core sets it for listings and searches, never for a
	// look-up by login name or id, which a client makes to read its own write.
	MayLag bool
	// NoTotal skips counting the matches, for listings paged by a cursor (a condition
	// on the sort key) that show no total: the count of a broad search costs a walk of
	// everything it matches. UserPage.Total is then 0.
	NoTotal bool
}

const (
	DefaultPageSize = 20
	MaxPageSize     = 1000
)

// UserPage is one page of a listing; Total counts every match, not just this page.
type UserPage struct {
	Users []User
	Total int
}

// CreateUserOptions carries what is created together with a user, in one transaction.
type CreateUserOptions struct {
	GroupIDs []string
	Password string // clear text, hashed by the core; "" sets no password
	// MFA, when set and on, turns MFA on with the TOTP secret the user already has.
	MFA *MFASetting
	// Locked creates the user locked until an administrator unlocks it.
	Locked bool
}

// UserRef names the user a change or deletion is for: by ID, else by LoginName
// (ignoring case). A Version other than 0 is the version the caller last saw; the
// change is refused (ECONFLICT naming FieldVersion) if the user has changed since.
type UserRef struct {
	ID        string
	LoginName string
	Version   int64
}

// UserChange is everything one request changes about a user, made at once: one
// transaction, one audit event. Nil and empty fields change nothing.
type UserChange struct {
	UserUpdate
	// Version, when not 0, is the version the change was made from as the request's
	// body says (UserRef.Version says it when the request names it before its body is
	// read): a user that has moved on refuses it, ECONFLICT naming FieldVersion.
	Version int64
	// LoginName renames the user; the new name must be free in the instance.
	LoginName *string
	// Password sets a new password, held to the instance's policy.
	Password *NewPassword
	// MFA turns multi-factor authentication off, or on with a secret the user has.
	MFA *MFASetting
	// JoinGroups and LeaveGroups change the user's direct memberships.
	JoinGroups, LeaveGroups []string
}

// NewPassword is a password an administrator (or the user itself) sets: in clear, to be
// hashed by the core, or as a hash made elsewhere (Hash, see account.CheckHash).
type NewPassword struct {
	Clear     string
	Hash      string
	Temporary bool // the next sign-in may only change it
}

// MFASetting turns MFA off (Enabled false), or on with Secret, a TOTP secret the user
// already has (base32).
type MFASetting struct {
	Enabled bool
	Secret  string
}

// UserEdit turns the user as it is now into the change a request asks for. The core
// calls it after authorizing the caller, and again with the user as it then is if
// another writer got there first; so an edit re-applies operations (a PATCH) rather
// than a state read earlier. An error it returns refuses the request as it is.
type UserEdit func(current *User) (*UserChange, error)

// UserService is the user directory as the faces see it. Every method reads the
// caller from the context (NewContextWithPrincipal), checks its privilege on the
// instance, and appends an audit event for every change.
// UserBuild reads a new user from a request, once the caller may create users.
type UserBuild func() (*User, CreateUserOptions, error)

type UserService interface {
	CreateUser(ctx context.Context, u *User, opts CreateUserOptions) (*User, error)
	// CreateUserFrom authorizes the caller to create users in instanceID first, then
	// calls build — a face's reading of its request — and creates the user it returns
	// (in instanceID), as CreateUser does: a caller that may not create users is
	// refused as such, whatever its body holds.
	CreateUserFrom(ctx context.Context, instanceID string, build UserBuild) (*User, error)
	GetUser(ctx context.Context, instanceID, id string) (*User, error)
	FindUserByLogin(ctx context.Context, instanceID, loginName string) (*User, error)
	ListUsers(ctx context.Context, f UserFilter) (*UserPage, error)
	// ChangeUser makes the change edit asks for: authorized first (the caller must
	// hold USER_WRITE and cover the user, see Principal.Covers), then validated, then
	// written in one transaction.
	ChangeUser(ctx context.Context, instanceID string, ref UserRef, edit UserEdit) (*User, error)
	// UpdateUser is ChangeUser with a fixed update.
	UpdateUser(ctx context.Context, instanceID, id string, upd UserUpdate) (*User, error)
	DeleteUser(ctx context.Context, instanceID string, ref UserRef) error
}

// TagService reads and changes a user's tags (changing them is acting on the user).
type TagService interface {
	ListUserTags(ctx context.Context, instanceID, userID string) ([]Tag, error)
	PutUserTags(ctx context.Context, instanceID, userID string, tags []Tag) error
	DeleteUserTags(ctx context.Context, instanceID, userID string, keys []string) error
}

// BuiltinUsers keeps the system users a face's vendor has (ECE's readonly).
type BuiltinUsers interface {
	// EnsureBuiltinUser creates the built-in user login with roles if it is missing.
	EnsureBuiltinUser(ctx context.Context, instanceID, login, displayName string, roles []string) error
}

// ActorLogins resolves the actors of users' audit stamps (CreatedBy, UpdatedBy: user
// ids) to their login names, for faces whose vendor shows the stamps by user name.
type ActorLogins interface {
	// ActorLogins returns the login name of each of ids that is a user of the instance;
	// the others (a user since deleted, another instance's administrator) are left out.
	// A caller holding USER_READ may resolve any ids; any other caller signed in to the
	// instance only itself and the actors of its own record's stamps (what Me shows
	// it): other ids are left out as if not found.
	ActorLogins(ctx context.Context, instanceID string, ids []string) (map[string]string, error)
}

// SelfService is what any signed-in user may do to its own record.
type SelfService interface {
	// Me returns the caller's own user.
	Me(ctx context.Context) (*User, error)
	// ChangeOwnUser changes the caller's own names, email and password, and nothing else.
	ChangeOwnUser(ctx context.Context, edit UserEdit) (*User, error)
}

// unaudited are the User fields a change's audit record does not name: identity, the
// stamps every change moves, and what follows from another field.
var unaudited = map[string]bool{"ID": true, "InstanceID": true, "CreatedAt": true, "CreatedBy": true,
	"CreatedByName": true, "UpdatedAt": true, "UpdatedBy": true, "UpdatedByName": true, "Version": true,
	"InheritedGroups": true, "PasswordHistoryCount": true, "PasswordChangedAt": true}

// auditNames are the canonical names of User's fields, in iamd's own API vocabulary
// (snake case of the Go name, the hash named for what it is to a person).
var auditNames = func() []string {
	t := reflect.TypeFor[User]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = snakeCase(t.Field(i).Name)
	}
	names[fieldIndex("PasswordHash")] = FieldPassword
	names[fieldIndex("Groups")] = FieldGroupIDs
	return names
}()

func fieldIndex(name string) int {
	f, _ := reflect.TypeFor[User]().FieldByName(name)
	return f.Index[0]
}

// snakeCase turns a Go name into snake case, keeping initialisms whole: MFAEnabled is
// mfa_enabled, ExternalID external_id.
func snakeCase(name string) string {
	var b strings.Builder
	runes := []rune(name)
	for i, r := range runes {
		upper := unicode.IsUpper(r)
		if upper && i > 0 && (!unicode.IsUpper(runes[i-1]) || i+1 < len(runes) && unicode.IsLower(runes[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// ChangedFields names the fields in which next differs from cur, in the order User
// declares them: what an audit event records of a change, never the values.
func ChangedFields(cur, next *User) []string {
	a, b := reflect.ValueOf(cur).Elem(), reflect.ValueOf(next).Elem()
	t := a.Type()
	var out []string
	for i := range t.NumField() {
		if unaudited[t.Field(i).Name] {
			continue
		}
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			out = append(out, auditNames[i])
		}
	}
	return out
}

// UserSearch is a search as people make one, in the native API and the console: every
// field optional, each a prefix (which the indexes of login names, emails and display
// names serve at any size of directory), paged by login name after a cursor.
type UserSearch struct {
	Any         string // a prefix of the login name or display name, or with an @ of the email
	LoginName   string
	Email       string
	DisplayName string
	Status      UserStatus
	GroupID     string
	Role        string // held directly or through a group
	After       string // the login name of the last user of the page before
	Limit       int
}

// Filter is the listing of s in instanceID: one more user than s.Limit, so that the
// caller knows whether another page follows, and no total.
func (s UserSearch) Filter(instanceID string) UserFilter {
	f := UserFilter{InstanceID: instanceID, Limit: s.Limit + 1, NoTotal: true, GroupID: s.GroupID, Status: s.Status,
		Sort: []UserSort{{Key: SortByLoginName}}}
	var where AllOf
	for _, m := range []struct{ field, prefix string }{{FieldLoginName, s.LoginName}, {FieldEmail, s.Email},
		{FieldDisplayName, s.DisplayName}} {
		if m.prefix != "" {
			where = append(where, Match{Field: m.field, Op: MatchSw, Value: m.prefix})
		}
	}
	f.Prefix = strings.TrimSpace(s.Any)
	if s.Role != "" {
		where = append(where, HasRole{Roles: []string{s.Role}, ThroughGroups: true})
	}
	if s.After != "" {
		where = append(where, Match{Field: FieldLoginName, Op: MatchGt, Value: s.After})
	}
	if len(where) > 0 {
		f.Where = where
	}
	return f
}
