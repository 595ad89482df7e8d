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
