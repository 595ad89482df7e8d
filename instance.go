package iamd

import (
	"context"
	"time"
)

// Instance is a tenant: SCP's instance_id, an Ncloud account, an ECE platform, a
// VikingCloud tenant, a SCIM tenant. Everything else belongs to exactly one instance.
type Instance struct {
	ID     string
	Name   string
	Policy AccountPolicy
	// DuplicateGroupNames lets groups of the instance share a name. By default a group's
	// name is unique in its instance, ignoring case (what SCIM provisioners expect), and
	// the database holds it so: two concurrent creates of one name cannot both succeed.
	DuplicateGroupNames bool
	CreatedAt           time.Time
}

// AccountPolicy is an instance's rules for passwords and sign-in, after NIST SP 800-63B:
// length, not composition; a blocklist; no forced rotation unless MaxAge is set.
type AccountPolicy struct {
	PasswordMinLength int           // characters
	PasswordHistory   int           // previous passwords a new one may not repeat
	PasswordMaxAge    time.Duration // 0: passwords do not expire
	LockoutThreshold  int           // consecutive failures that lock the account
	LockoutDuration   time.Duration // how long a lock lasts unless an admin lifts it
}

// DefaultAccountPolicy is what a new instance gets.
var DefaultAccountPolicy = AccountPolicy{
	PasswordMinLength: 8,
	PasswordHistory:   5,
	LockoutThreshold:  5,
	LockoutDuration:   15 * time.Minute,
}

// Policy bounds.
const (
	MaxPasswordBytes      = 256
	MaxPasswordMinLength  = 128
	MaxPasswordHistory    = 24
	MaxLockoutThreshold   = 100
	MaxLockoutDuration    = 24 * time.Hour
	FieldPolicy           = "policy"
	FieldPasswordMinLen   = "password_min_length"
	FieldPasswordHistory  = "password_history"
	FieldPasswordMaxAge   = "password_max_age"
	FieldLockoutThreshold = "lockout_threshold"
	FieldLockoutDuration  = "lockout_duration"
)

// RetiredHashesKept is how many replaced password hashes to keep: with the current one,
// the last PasswordHistory passwords are refused.
func (p *AccountPolicy) RetiredHashesKept() int { return max(p.PasswordHistory-1, 0) }

// Validate checks a policy before it is stored.
func (p *AccountPolicy) Validate() error {
	switch {
	case p.PasswordMinLength < 1 || p.PasswordMinLength > MaxPasswordMinLength:
		return Invalid(FieldPasswordMinLen, "password_min_length must be 1 to %d", MaxPasswordMinLength)
	case p.PasswordHistory < 0 || p.PasswordHistory > MaxPasswordHistory:
		return Invalid(FieldPasswordHistory, "password_history must be 0 to %d", MaxPasswordHistory)
	case p.PasswordMaxAge < 0:
		return Invalid(FieldPasswordMaxAge, "password_max_age must not be negative")
	case p.LockoutThreshold < 1 || p.LockoutThreshold > MaxLockoutThreshold:
		return Invalid(FieldLockoutThreshold, "lockout_threshold must be 1 to %d", MaxLockoutThreshold)
	case p.LockoutDuration < time.Second || p.LockoutDuration > MaxLockoutDuration:
		return Invalid(FieldLockoutDuration, "lockout_duration must be 1s to %s", MaxLockoutDuration)
	}
	return nil
}

// Validate checks an instance before it is stored.
func (i *Instance) Validate() error {
	if err := checkIdentifier(FieldInstanceID, i.ID, MaxIdentifierLen); err != nil {
		return err
	}
	if err := CheckText(FieldName, i.Name, MaxNameLen); err != nil {
		return err
	}
	return i.Policy.Validate()
}

// InstanceService manages tenants. Creating instances is a platform administrator's act.
type InstanceService interface {
	CreateInstance(ctx context.Context, inst *Instance) (*Instance, error)
	GetInstance(ctx context.Context, id string) (*Instance, error)
	ListInstances(ctx context.Context) ([]Instance, error)
	// DeleteInstance removes an instance and all of it but its audit trail; a platform
	// administrator's act.
	DeleteInstance(ctx context.Context, id string) error
}

// Administration is the directory as administrators' tools see it (the native API and
// the console): users, groups, roles, instances and their policy, and the audit trail.
type Administration interface {
	UserService
	GroupService
	RoleService
	InstanceService
	EventService
	ActorLogins
	SetAccountPolicy(ctx context.Context, instanceID string, p AccountPolicy) error
	// GroupWithMembers returns a group and its direct members (GROUP_READ).
	GroupWithMembers(ctx context.Context, instanceID, id string) (*Group, GroupMemberList, error)
}
