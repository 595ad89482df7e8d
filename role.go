package iamd

import (
	"context"
	"slices"
)

// Role is a named set of privileges in one instance. Built-in roles carry each face's
// vocabulary and cannot be changed or deleted; custom roles are the instance's own.
type Role struct {
	InstanceID  string
	Name        string
	Description string
	Builtin     bool
	Privileges  []string
	// Excludes names roles a user holding this one may not hold directly as well (ECE
	// forbids its platform admin role with any other of its roles). The exclusion goes
	// both ways: either role's list may name the other.
	Excludes []string
}

// Privileges that manage roles: granting a role can grant anything, so it is a
// privilege of its own rather than part of USER_WRITE.
const (
	PrivilegeRoleRead  = "ROLE_READ"
	PrivilegeRoleWrite = "ROLE_WRITE"
)

var (
	readPrivileges     = []string{PrivilegeUserRead, PrivilegeGroupRead, PrivilegeRoleRead, PrivilegeAuditRead}
	instancePrivileges = []string{PrivilegeUserRead, PrivilegeUserWrite, PrivilegeUserDelete, PrivilegeGroupRead,
		PrivilegeGroupWrite, PrivilegeRoleRead, PrivilegeRoleWrite, PrivilegeAuditRead}
)

// BuiltinRoles every instance has. ECE's platform roles map onto the directory's
// privileges; its deployment roles concern deployments, which iamd does not hold, so they
// grant nothing here. VikingCloud names privileges directly (USER_READ, …), which are
// iamd's own names.
var BuiltinRoles = []Role{
	{Name: "ece_platform_admin", Description: "Elastic Cloud Enterprise: administers the platform, its users included.", Privileges: instancePrivileges,
		Excludes: []string{"ece_platform_viewer", "ece_deployment_manager", "ece_deployment_viewer"}},
	{Name: "ece_platform_viewer", Description: "Elastic Cloud Enterprise: reads everything on the platform.", Privileges: readPrivileges},
	{Name: "ece_deployment_manager", Description: "Elastic Cloud Enterprise: manages deployments; no user administration.", Privileges: []string{},
		Excludes: []string{"ece_deployment_viewer"}},
	{Name: "ece_deployment_viewer", Description: "Elastic Cloud Enterprise: reads deployments; no user administration.", Privileges: []string{}},
	{Name: "iamd_admin", Description: "Administers the instance's users, groups and roles.", Privileges: instancePrivileges},
	{Name: "iamd_viewer", Description: "Reads the instance's users, groups, roles and audit log.", Privileges: readPrivileges},
}

// IsBuiltinRole reports whether name is one of BuiltinRoles.
func IsBuiltinRole(name string) bool {
	return slices.ContainsFunc(BuiltinRoles, func(r Role) bool { return r.Name == name })
}

// IsPrivilege reports whether name is a privilege the core knows.
func IsPrivilege(name string) bool { return slices.Contains(AllPrivileges, name) }

// ExclusionBetween returns the first pair of roles among held (a user's direct roles)
// that one of them excludes, from the definitions in defs (by name).
func ExclusionBetween(held []string, defs map[string]Role) (a, b string, found bool) {
	for _, r := range held {
		for _, x := range defs[r].Excludes {
			if x != r && slices.Contains(held, x) {
				return r, x, true
			}
		}
	}
	return "", "", false
}

// Validate checks a custom role before it is stored.
func (r *Role) Validate() error {
	if err := checkIdentifier(FieldName, r.Name, MaxIdentifierLen); err != nil {
		return err
	}
	if err := CheckText(FieldDescription, r.Description, MaxDescriptionLen); err != nil {
		return err
	}
	for _, p := range r.Privileges {
		if !IsGrantable(p) {
			return Invalid(FieldPrivileges, "unknown privilege %q", p)
		}
	}
	return nil
}

// RoleService manages an instance's roles and who holds them. Defining, changing,
// deleting or granting a role needs ROLE_WRITE and every privilege the role holds (or
// held): no caller grants what it does not have. A user's roles are granted by a
// UserChange.
type RoleService interface {
	CreateRole(ctx context.Context, r *Role) (*Role, error)
	// SaveRole creates a custom role, or replaces the description and privileges of one.
	SaveRole(ctx context.Context, r *Role) (*Role, error)
	ListRoles(ctx context.Context, instanceID string) ([]Role, error)
	DeleteRole(ctx context.Context, instanceID, name string) error
	// SetGroupRoles replaces the roles a group's members inherit.
	SetGroupRoles(ctx context.Context, instanceID, groupID string, roles []string) error
	// ListGrantablePrivileges returns the privileges roles may hold and users be granted.
	ListGrantablePrivileges(ctx context.Context, instanceID string) ([]string, error)
	// EffectiveGrants returns the roles and privileges a user holds in all: direct,
	// through its roles, and through its groups, nested ones included.
	EffectiveGrants(ctx context.Context, instanceID, userID string) (roles, privileges []string, err error)
	// EffectiveGrantsOf is EffectiveGrants for each of userIDs (a listing's page), read
	// for them all at once; an id that is no user of the instance holds nothing.
	EffectiveGrantsOf(ctx context.Context, instanceID string, userIDs []string) (map[string]Grants, error)
}

// Grants are the roles and privileges a user holds in all, each sorted, never nil.
type Grants struct {
	Roles, Privileges []string
}
