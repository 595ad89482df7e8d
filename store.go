package iamd

import (
	"context"
	"time"
)

// ReadScoper is a store whose reads made for one request can share work: the SQLite
// store's one ask of whether anything was committed (sqlstore.DB.ScopeReads). A server
// derives each request's context with it.
type ReadScoper interface {
	ScopeReads(ctx context.Context) context.Context
}

// Store persists the directory. Implementations (sqlite, postgres) hold no rules beyond
// integrity: the core validates and authorizes before it calls them. Every method that
// changes state takes the audit Event for that change and appends it in the same
// transaction, so a change is never stored without its record, nor a record without its
// change.
//
// Errors are domain errors: ENOTFOUND for an absent (or other-instance) row,
// ECONFLICT with Field set for a uniqueness violation or a stale Version.
type Store interface {
	Ping(ctx context.Context) error
	Close() error
	CredentialChecker

	CreateInstance(ctx context.Context, inst *Instance, ev Event) error
	// DeleteInstance removes an instance with its users, groups, roles and credentials in
	// one transaction; its events stay in the audit trail. ENOTFOUND when there is no
	// such instance; ECONFLICT when one of its users administers the platform, which
	// would leave the platform without its administrator.
	DeleteInstance(ctx context.Context, id string, ev Event) error
	GetInstance(ctx context.Context, id string) (*Instance, error)
	ListInstances(ctx context.Context) ([]Instance, error)
	SetAccountPolicy(ctx context.Context, instanceID string, p AccountPolicy, ev Event) error

	// CreateUser inserts w.User (ID, timestamps and Version already set by the core)
	// with its direct roles and privileges, its memberships of w.JoinGroups and, when
	// w.TOTP is set, its MFA enrolment. ECONFLICT/FieldLoginName when the login key is
	// taken in the instance; EINVALID/FieldGroupIDs when a group does not exist there;
	// EINVALID/FieldRoles naming a role the instance lacks.
	CreateUser(ctx context.Context, w UserWrite) error
	// GetUser returns the user with Roles, Privileges and Groups filled in.
	GetUser(ctx context.Context, instanceID, id string) (*User, error)
	// GetUserRow returns the user's own fields only: Roles, Privileges, Groups and
	// PasswordHistoryCount are left empty. Authenticating a call needs no more, and
	// every signed call does it.
	GetUserRow(ctx context.Context, instanceID, id string) (*User, error)
	GetUserByLogin(ctx context.Context, instanceID, loginName string) (*User, error)
	// GetUserRights returns what the user may do: its effective privileges and whether
	// it administers the platform. ENOTFOUND when it is not the instance's.
	GetUserRights(ctx context.Context, instanceID, id string) (Rights, error)
	// UpdateUser stores w.User's every mutable column (login name included), if the
	// stored Version equals w.ExpectedVersion, with the rest of w in the same
	// transaction. A stale version answers ECONFLICT/FieldVersion; a missing user
	// ENOTFOUND; a taken login name ECONFLICT/FieldLoginName.
	UpdateUser(ctx context.Context, w UserWrite) error
	// ImportUsers inserts complete users (the core has validated and stamped them) in one
	// transaction with one audit event; ECONFLICT/FieldLoginName if any login is taken.
	ImportUsers(ctx context.Context, users []User, ev Event) error
	// DeleteUser removes a user, if expectedVersion is 0 or the stored version.
	DeleteUser(ctx context.Context, instanceID, id string, expectedVersion int64, ev Event) error
	// ListUsers returns one page in f.Sort order (ties broken by id) and the total.
	// Privileges are not filled in on listed users, nor Roles unless f.WithRoles, nor
	// Groups and InheritedGroups unless f.WithGroups.
	ListUsers(ctx context.Context, f UserFilter) (*UserPage, error)

	// CreateGroup inserts w.Group with the members w.Add. ECONFLICT/FieldName when the
	// instance keeps group names unique and the name is taken; ECONFLICT/FieldID when
	// the id is; ENOTFOUND (FieldUserIDs or FieldMemberGroupIDs) naming a member that
	// is not the instance's.
	CreateGroup(ctx context.Context, w GroupWrite) error
	GetGroup(ctx context.Context, instanceID, id string) (*Group, error)
	ListGroups(ctx context.Context, f GroupFilter) (*GroupPage, error)
	// DeleteGroup removes a group, if expectedVersion is 0 or the stored version.
	DeleteGroup(ctx context.Context, instanceID, id string, expectedVersion int64, ev Event) error
	// UpdateGroup stores w.Group's name, description, external id and stamps and makes
	// its member changes, if the stored Version equals w.ExpectedVersion (ECONFLICT/
	// FieldVersion otherwise). A nesting that would make a group its own member is
	// EINVALID/FieldMemberGroupIDs (checked under a lock that serializes nesting changes
	// in the instance, so two concurrent nestings cannot close a cycle between them).
	UpdateGroup(ctx context.Context, w GroupWrite) error
	// GroupGrants returns the privileges membership of a group grants: those of its
	// roles and of the roles of every group it is nested in.
	GroupGrants(ctx context.Context, instanceID, groupID string) ([]string, error)
	// ListMemberGroups returns the groups nested directly in a group, by name.
	ListMemberGroups(ctx context.Context, instanceID, groupID string) ([]GroupRef, error)
	// GroupMembersOf returns the direct members of each of groupIDs (see
	// GroupMemberList), read for them all at once; a group not of the instance has none.
	GroupMembersOf(ctx context.Context, instanceID string, groupIDs []string) (map[string]GroupMemberList, error)

	// PutRoles creates or replaces roles of an instance (used for the built-ins, at
	// instance creation and at start).
	PutRoles(ctx context.Context, instanceID string, roles []Role) error
	// CreateRole adds a custom role; ECONFLICT/FieldName when the name is taken.
	CreateRole(ctx context.Context, r *Role, ev Event) error
	ListRoles(ctx context.Context, instanceID string) ([]Role, error)
	// UpdateRole replaces a custom role's description and privileges; its grants stay.
	// ENOTFOUND when there is no such role, EINVALID when it is built in.
	UpdateRole(ctx context.Context, r *Role, ev Event) error
	// DeleteRole removes a role and every grant of it.
	DeleteRole(ctx context.Context, instanceID, name string, ev Event) error
	// SetGroupRoles replaces a group's roles; EINVALID/FieldRoles names a role the
	// instance does not have.
	SetGroupRoles(ctx context.Context, instanceID, groupID string, roles []string, ev Event) error

	// EffectivePrivileges returns the user's privileges: direct, through roles, and
	// through its groups' roles, without duplicates, sorted.
	EffectivePrivileges(ctx context.Context, instanceID, userID string) ([]string, error)

	// SetPassword applies c; ENOTFOUND for a missing user, ECONFLICT when c.IfHash no
	// longer matches.
	SetPassword(ctx context.Context, c PasswordChange) error
	// PasswordHistory returns up to n retired hashes of the user, newest first.
	PasswordHistory(ctx context.Context, instanceID, userID string, n int) ([]string, error)
	RecordSignInFailure(ctx context.Context, f SignInFailure) (*SignInState, error)
	RecordSignInSuccess(ctx context.Context, s SignInSuccess) error

	// PutTOTP stores an unconfirmed enrolment, replacing an unconfirmed one; ECONFLICT
	// when the user already has a confirmed one.
	PutTOTP(ctx context.Context, instanceID string, t *TOTP, ev Event) error
	GetTOTP(ctx context.Context, instanceID, userID string) (*TOTP, error)
	// ConfirmTOTP confirms the enrolment at step, turns MFA on for the user and replaces
	// the recovery codes with recoveryHashes.
	ConfirmTOTP(ctx context.Context, instanceID, userID string, step int64, recoveryHashes [][]byte, ev Event) error
	// UseTOTPStep accepts a code's step once: ECONFLICT when it is not newer than the
	// last step accepted.
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// UseRecoveryCode spends an unused code; ENOTFOUND when there is none with hash.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) error
	// DeleteTOTP removes the enrolment and recovery codes and turns MFA off.
	DeleteTOTP(ctx context.Context, instanceID, userID string, ev Event) error

	CreateSession(ctx context.Context, s *Session, ev Event) error
	GetSessionByHash(ctx context.Context, hash []byte) (*Session, error)
	GetSession(ctx context.Context, id string) (*Session, error)
	// RotateSession revokes the session oldID and creates next, atomically: of two
	// concurrent rotations of one session, one fails with ENOTFOUND.
	RotateSession(ctx context.Context, oldID string, next *Session, ev Event) error
	// RevokeSession marks an unrevoked session revoked at; ENOTFOUND otherwise.
	RevokeSession(ctx context.Context, id string, at time.Time, ev Event) error
	// EffectiveRoles returns the user's direct roles and those of every group it is in,
	// directly or through nesting; sorted, without repeats.
	EffectiveRoles(ctx context.Context, instanceID, userID string) ([]string, error)
	// EffectiveGrantsOf returns, for each of userIDs, what EffectiveRoles and
	// EffectivePrivileges return for it, read for them all at once: a listing's page.
	// An id that is no user of the instance holds nothing.
	EffectiveGrantsOf(ctx context.Context, instanceID string, userIDs []string) (map[string]Grants, error)
	// UserLogins returns the login name of each of ids that is a user of the instance,
	// read for them all at once; the others are left out.
	UserLogins(ctx context.Context, instanceID string, ids []string) (map[string]string, error)
	// ListUserTags returns a user's tags by key; ENOTFOUND when the user is not the
	// instance's.
	ListUserTags(ctx context.Context, instanceID, userID string) ([]Tag, error)
	// PutUserTags sets tags on a user, replacing the values of keys it has; EINVALID/
	// FieldTags when the user would have more than MaxTagsPerUser.
	PutUserTags(ctx context.Context, instanceID, userID string, tags []Tag, ev Event) error
	// DeleteUserTags removes tags by key; keys the user does not have are ignored.
	DeleteUserTags(ctx context.Context, instanceID, userID string, keys []string, ev Event) error
	// ListSessions returns a user's sessions that are neither revoked nor expired at now,
	// newest first.
	ListSessions(ctx context.Context, instanceID, userID string, now time.Time) ([]Session, error)
	// RevokeUserSessions revokes every unrevoked session of a user at at, and tells how
	// many; ENOTFOUND when the user is not the instance's.
	RevokeUserSessions(ctx context.Context, instanceID, userID string, at time.Time, ev Event) (int, error)

	CreateAccessKey(ctx context.Context, k *AccessKey, ev Event) error
	// GetAccessKey finds a key by its public id, across instances.
	GetAccessKey(ctx context.Context, id string) (*AccessKey, error)
	ListAccessKeys(ctx context.Context, instanceID, userID string) ([]AccessKey, error)
	RevokeAccessKey(ctx context.Context, instanceID, id string, ev Event) error
	TouchAccessKey(ctx context.Context, id string, at time.Time) error
	CreateAPIToken(ctx context.Context, t *APIToken, ev Event) error
	// GetAPIToken returns one token of the instance; ENOTFOUND when there is none.
	GetAPIToken(ctx context.Context, instanceID, id string) (*APIToken, error)
	ListAPITokens(ctx context.Context, instanceID, userID string) ([]APIToken, error)
	// ListInstanceAPITokens returns every user's tokens in the instance, oldest first.
	ListInstanceAPITokens(ctx context.Context, instanceID string) ([]APIToken, error)
	// RevokeAPITokens deletes tokens of the instance with their events (evs[i] is ids[i]'s),
	// all or none: ENOTFOUND naming the first that is not the instance's.
	RevokeAPITokens(ctx context.Context, instanceID string, ids []string, evs []Event) error
	TouchAPIToken(ctx context.Context, id string, at time.Time) error

	AppendEvent(ctx context.Context, ev Event) error
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)
}

// UserWrite is one change of a user, written in one transaction with its audit event.
type UserWrite struct {
	// User is the user as it is to be stored. Its Roles and Privileges, when not nil,
	// replace its direct grants (on create, nil grants none).
	User *User
	// ExpectedVersion is the stored version the change was made from (updates only).
	ExpectedVersion int64
	// JoinGroups and LeaveGroups change direct memberships; each group touched is a
	// new version of that group.
	JoinGroups, LeaveGroups []string
	// RetiredHash, when set, is the password hash User.PasswordHash replaces: it joins
	// the user's history, of which the newest KeepHistory entries stay.
	RetiredHash string
	KeepHistory int
	// TOTP, when set, replaces the user's MFA enrolment with this confirmed one and its
	// recovery codes with none; DropTOTP removes the enrolment and recovery codes.
	TOTP     *TOTP
	DropTOTP bool
	Event    Event
}

// GroupWrite is one change of a group, written in one transaction with its audit event.
type GroupWrite struct {
	Group           *Group
	ExpectedVersion int64 // updates only
	// Add and Remove change the members. Every user whose memberships, or whose rights
	// through them, change is a new version of that user (so that a change authorized on
	// the user as it was fails as stale).
	Add, Remove GroupMembers
	Event       Event
}

// Clock lets tests control time.
type Clock func() time.Time
