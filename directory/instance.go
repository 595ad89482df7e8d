package directory

import (
	"context"

	"iamd"
)

// CreateInstance creates a tenant; only platform administrators may.
func (s *Service) CreateInstance(ctx context.Context, in *iamd.Instance) (*iamd.Instance, error) {
	p := iamd.PrincipalFromContext(ctx)
	if p == nil {
		return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	}
	if !p.PlatformAdmin {
		return nil, iamd.Errorf(iamd.EFORBIDDEN, "Only platform administrators may create instances.")
	}
	inst := *in
	if inst.Name == "" {
		inst.Name = inst.ID
	}
	if inst.Policy == (iamd.AccountPolicy{}) {
		inst.Policy = iamd.DefaultAccountPolicy
	}
	if err := inst.Validate(); err != nil {
		return nil, err
	}
	inst.CreatedAt = s.clock()
	if err := s.store.CreateInstance(ctx, &inst, s.event(ctx, p, inst.ID, iamd.ActionInstanceCreate, "instance", inst.ID)); err != nil {
		return nil, err
	}
	if err := s.store.PutRoles(ctx, inst.ID, builtinRoles()); err != nil {
		return nil, err
	}
	return &inst, nil
}

// DeleteInstance removes an instance with its users, groups, roles and credentials; like
// creating one, it is a platform administrator's act. The caller's own instance is not
// the caller's to delete.
func (s *Service) DeleteInstance(ctx context.Context, id string) error {
	p := iamd.PrincipalFromContext(ctx)
	switch {
	case p == nil:
		return iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	case !p.PlatformAdmin:
		if p.Sees(id) {
			return iamd.Errorf(iamd.EFORBIDDEN, "Only platform administrators may delete instances.")
		}
		return iamd.Errorf(iamd.ENOTFOUND, "No instance with id %q.", id)
	case p.InstanceID == id:
		return iamd.Refused("", iamd.FieldInstanceID, "An administrator cannot delete the instance it belongs to.")
	}
	return s.store.DeleteInstance(ctx, id, s.event(ctx, p, id, iamd.ActionInstanceDelete, "instance", id))
}

// GetInstance returns an instance the caller can see.
func (s *Service) GetInstance(ctx context.Context, id string) (*iamd.Instance, error) {
	p := iamd.PrincipalFromContext(ctx)
	if p == nil {
		return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	}
	if !p.Sees(id) {
		return nil, notFound("instance", id)
	}
	return s.store.GetInstance(ctx, id)
}

// ListInstances returns every instance to a platform administrator, and the caller's
// own to anyone else.
func (s *Service) ListInstances(ctx context.Context) ([]iamd.Instance, error) {
	p := iamd.PrincipalFromContext(ctx)
	if p == nil {
		return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	}
	if !p.PlatformAdmin {
		inst, err := s.store.GetInstance(ctx, p.InstanceID)
		if err != nil {
			return nil, err
		}
		return []iamd.Instance{*inst}, nil
	}
	return s.store.ListInstances(ctx)
}

// ListEvents reads the audit log of one instance.
func (s *Service) ListEvents(ctx context.Context, f iamd.EventFilter) ([]iamd.Event, error) {
	if _, err := authorize(ctx, f.InstanceID, iamd.PrivilegeAuditRead); err != nil {
		return nil, err
	}
	return s.store.ListEvents(ctx, f)
}

// SetAccountPolicy replaces an instance's password and lockout policy; like creating
// instances, it is a platform administrator's act.
func (s *Service) SetAccountPolicy(ctx context.Context, instanceID string, policy iamd.AccountPolicy) error {
	p := iamd.PrincipalFromContext(ctx)
	switch {
	case p == nil:
		return iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	case !p.Sees(instanceID):
		return notFound("instance", instanceID)
	case !p.PlatformAdmin:
		return iamd.Errorf(iamd.EFORBIDDEN, "Only platform administrators may change an instance's account policy.")
	}
	if err := policy.Validate(); err != nil {
		return err
	}
	return s.store.SetAccountPolicy(ctx, instanceID, policy, s.event(ctx, p, instanceID, iamd.ActionPolicySet, "instance", instanceID))
}
