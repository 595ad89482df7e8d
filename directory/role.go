package directory

import (
	"context"
	"slices"

	"iamd"
)

var _ iamd.RoleService = (*Service)(nil)

// EnsureBuiltinRoles gives every instance the current built-in roles. It runs at start,
// so that a new release's built-ins reach existing instances; grants are kept.
func (s *Service) EnsureBuiltinRoles(ctx context.Context) error {
	instances, err := s.store.ListInstances(ctx)
	if err != nil {
		return err
	}
	for _, inst := range instances {
		if err := s.store.PutRoles(ctx, inst.ID, builtinRoles()); err != nil {
			return err
		}
	}
	return nil
}

// EnsureBuiltinUser makes sure instanceID has a built-in user named login with roles:
// a system user that cannot be deleted and has no password until one is set. ECE's
// platforms have one such, readonly. Idempotent, and safe for replicas starting at once.
func (s *Service) EnsureBuiltinUser(ctx context.Context, instanceID, login, displayName string, roles []string) error {
	_, err := s.store.GetUserByLogin(ctx, instanceID, login)
	if iamd.ErrorCode(err) != iamd.ENOTFOUND {
		return err
	}
	now := s.clock()
	system := &iamd.Principal{Name: "iamd"}
	u := newUser(&iamd.User{LoginName: login, DisplayName: displayName}, instanceID, system, now)
	u.Builtin, u.Roles = true, dedupe(roles)
	if err := u.Validate(); err != nil {
		return err
	}
	ev := iamd.Event{InstanceID: instanceID, ActorName: "iamd", Action: iamd.ActionUserCreate, TargetType: "user",
		TargetID: u.ID, Outcome: iamd.OutcomeSuccess, Source: "bootstrap", Face: iamd.FaceSystem, Time: now}
	if err := s.store.CreateUser(ctx, iamd.UserWrite{User: &u, Event: ev}); err != nil && iamd.ErrorCode(err) != iamd.ECONFLICT {
		return err
	}
	return nil
}

func builtinRoles() []iamd.Role {
	out := slices.Clone(iamd.BuiltinRoles)
	for i := range out {
		out[i].Builtin = true
	}
	return out
}

// CreateRole adds a custom role (ROLE_WRITE, holding every privilege it holds: no
// caller defines a role it could not grant).
func (s *Service) CreateRole(ctx context.Context, in *iamd.Role) (*iamd.Role, error) {
	p, err := authorize(ctx, in.InstanceID, iamd.PrivilegeRoleWrite)
	if err != nil {
		return nil, err
	}
	if _, err := s.requireInstance(ctx, in.InstanceID); err != nil {
		return nil, err
	}
	r := iamd.Role{InstanceID: in.InstanceID, Name: in.Name, Description: in.Description, Privileges: dedupe(in.Privileges)}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if err := mayGrant(p, r.Privileges); err != nil {
		return nil, err
	}
	if iamd.IsBuiltinRole(r.Name) {
		return nil, &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldName, Message: "That name belongs to a built-in role."}
	}
	slices.Sort(r.Privileges)
	if err := s.store.CreateRole(ctx, &r, s.event(ctx, p, r.InstanceID, iamd.ActionRoleCreate, "role", r.Name)); err != nil {
		return nil, err
	}
	return &r, nil
}

// ListRoles lists an instance's roles (ROLE_READ).
func (s *Service) ListRoles(ctx context.Context, instanceID string) ([]iamd.Role, error) {
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeRoleRead); err != nil {
		return nil, err
	}
	return s.store.ListRoles(ctx, instanceID)
}

// DeleteRole removes a custom role and its grants (ROLE_WRITE, holding its privileges).
func (s *Service) DeleteRole(ctx context.Context, instanceID, name string) error {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeRoleWrite)
	if err != nil {
		return err
	}
	if iamd.IsBuiltinRole(name) {
		return iamd.Invalid(iamd.FieldName, "built-in roles cannot be deleted")
	}
	defs, err := s.roleDefinitions(ctx, instanceID)
	if err != nil {
		return err
	}
	if err := mayGrant(p, defs[name].Privileges); err != nil {
		return err
	}
	return s.store.DeleteRole(ctx, instanceID, name, s.event(ctx, p, instanceID, iamd.ActionRoleDelete, "role", name))
}

// SetGroupRoles replaces the roles a group's members inherit (ROLE_WRITE, holding the
// privileges of the roles it grants and of those it takes away).
func (s *Service) SetGroupRoles(ctx context.Context, instanceID, groupID string, roles []string) error {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeRoleWrite)
	if err != nil {
		return err
	}
	g, err := s.store.GetGroup(ctx, instanceID, groupID)
	if err != nil {
		return err
	}
	defs, err := s.roleDefinitions(ctx, instanceID)
	if err != nil {
		return err
	}
	roles = dedupe(roles)
	var privileges []string
	for _, r := range append(slices.Clone(roles), g.Roles...) {
		def, ok := defs[r]
		if !ok {
			return iamd.Invalid(iamd.FieldRoles, "no role named %q", r)
		}
		privileges = append(privileges, def.Privileges...)
	}
	if err := mayGrant(p, privileges); err != nil {
		return err
	}
	return s.store.SetGroupRoles(ctx, instanceID, groupID, roles, s.event(ctx, p, instanceID, iamd.ActionRolesAssign, "group", groupID))
}

// SaveRole creates a custom role, or replaces the description and privileges of one that
// exists (ROLE_WRITE, holding the privileges it had and those it gets); built-in roles
// cannot be changed.
func (s *Service) SaveRole(ctx context.Context, in *iamd.Role) (*iamd.Role, error) {
	r, err := s.CreateRole(ctx, in)
	if iamd.ErrorCode(err) != iamd.ECONFLICT || iamd.ErrorField(err) != iamd.FieldName {
		return r, err
	}
	p, err := authorize(ctx, in.InstanceID, iamd.PrivilegeRoleWrite)
	if err != nil {
		return nil, err
	}
	next := iamd.Role{InstanceID: in.InstanceID, Name: in.Name, Description: in.Description, Privileges: dedupe(in.Privileges)}
	slices.Sort(next.Privileges)
	if err := next.Validate(); err != nil {
		return nil, err
	}
	defs, err := s.roleDefinitions(ctx, in.InstanceID)
	if err != nil {
		return nil, err
	}
	if err := mayGrant(p, append(slices.Clone(next.Privileges), defs[in.Name].Privileges...)); err != nil {
		return nil, err
	}
	if err := s.store.UpdateRole(ctx, &next, s.event(ctx, p, in.InstanceID, iamd.ActionRoleUpdate, "role", in.Name)); err != nil {
		return nil, err
	}
	return &next, nil
}

// ListGrantablePrivileges returns the privileges roles may hold and users be granted
// (ROLE_READ).
func (s *Service) ListGrantablePrivileges(ctx context.Context, instanceID string) ([]string, error) {
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeRoleRead); err != nil {
		return nil, err
	}
	return slices.Clone(iamd.GrantablePrivileges), nil
}

// EffectiveGrants returns the roles and privileges a user holds in all (USER_READ):
// direct, through its roles, and through its groups, nested ones included.
func (s *Service) EffectiveGrants(ctx context.Context, instanceID, userID string) (roles, privileges []string, err error) {
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeUserRead); err != nil {
		return nil, nil, err
	}
	all, err := s.store.EffectiveGrantsOf(ctx, instanceID, []string{userID}) // both in one read
	if err != nil {
		return nil, nil, err
	}
	g := all[userID]
	if g.Roles == nil {
		g.Roles = []string{}
	}
	if g.Privileges == nil {
		g.Privileges = []string{}
	}
	return g.Roles, g.Privileges, nil
}

// EffectiveGrantsOf is EffectiveGrants for a page of users (USER_READ), read at once.
func (s *Service) EffectiveGrantsOf(ctx context.Context, instanceID string, userIDs []string) (map[string]iamd.Grants, error) {
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeUserRead); err != nil {
		return nil, err
	}
	if len(userIDs) == 0 {
		return map[string]iamd.Grants{}, nil
	}
	return s.store.EffectiveGrantsOf(ctx, instanceID, userIDs)
}
