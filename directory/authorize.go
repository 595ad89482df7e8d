package directory

import (
	"context"
	"slices"
	"strings"

	"iamd"
)

// authorize returns the caller if it holds privilege on instanceID.
func authorize(ctx context.Context, instanceID, privilege string) (*iamd.Principal, error) {
	p, err := iamd.Authorize(ctx, instanceID, privilege)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// grants are what a change gives a user, or takes away: direct roles and privileges,
// and memberships of groups, which grant their roles.
type grants struct {
	roles, privileges []string // granted
	groups, leave     []string // joined, left
	revoking          bool     // direct roles or privileges taken away
}

// authorizeGrants checks that p may make the grants of a change in an instance. Joining
// or leaving groups needs GROUP_WRITE. Granting or revoking roles or privileges needs
// ROLE_WRITE, and so does joining or leaving a group that carries roles; and p must
// hold every privilege it grants: no caller gives what it does not have. Unknown
// roles and privileges are named only to a caller that may grant.
func (s *Service) authorizeGrants(ctx context.Context, p *iamd.Principal, instanceID string, g grants) error {
	var granted []string
	if len(g.groups) > 0 || len(g.leave) > 0 {
		if _, err := authorize(ctx, instanceID, iamd.PrivilegeGroupWrite); err != nil {
			return err
		}
		for _, id := range append(slices.Clone(g.groups), g.leave...) {
			privileges, err := s.store.GroupGrants(ctx, instanceID, id)
			if err != nil {
				return err
			}
			if len(privileges) > 0 {
				g.revoking = true // membership of a group with roles is a grant
				granted = append(granted, privileges...)
			}
		}
	}
	if len(g.roles) == 0 && len(g.privileges) == 0 && !g.revoking {
		return nil
	}
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeRoleWrite); err != nil {
		return err
	}
	if len(g.roles) > 0 {
		defs, err := s.roleDefinitions(ctx, instanceID)
		if err != nil {
			return err
		}
		for _, r := range g.roles {
			def, ok := defs[r]
			if !ok {
				return iamd.Invalid(iamd.FieldRoles, "no role named %q", r)
			}
			granted = append(granted, def.Privileges...)
		}
	}
	for _, priv := range g.privileges {
		if !iamd.IsGrantable(priv) {
			return iamd.Invalid(iamd.FieldPrivileges, "unknown privilege %q", priv)
		}
	}
	return mayGrant(p, append(granted, g.privileges...))
}

// mayGrant refuses a caller that does not hold every one of privileges.
func mayGrant(p *iamd.Principal, privileges []string) error {
	if p.Holds(privileges) {
		return nil
	}
	var missing []string
	for _, priv := range dedupe(privileges) {
		if !p.Holds([]string{priv}) {
			missing = append(missing, priv)
		}
	}
	slices.Sort(missing)
	return &iamd.Error{Code: iamd.EFORBIDDEN, Rule: iamd.RuleRights,
		Message: "The caller cannot grant privileges it does not hold: " + strings.Join(missing, ", ") + "."}
}

// roleDefinitions maps the instance's roles by name.
func (s *Service) roleDefinitions(ctx context.Context, instanceID string) (map[string]iamd.Role, error) {
	roles, err := s.store.ListRoles(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	defs := make(map[string]iamd.Role, len(roles))
	for _, r := range roles {
		defs[r.Name] = r
	}
	return defs, nil
}
