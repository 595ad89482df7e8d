package directory

import (
	"context"

	"github.com/google/uuid"

	"iamd"
)

// MaxMembersPerCall bounds one membership change, so that one request cannot hold a
// write transaction for long.
const MaxMembersPerCall = 1000

// CreateGroup creates a group. An id may be given (a UUID, for imports); else one is made.
func (s *Service) CreateGroup(ctx context.Context, in *iamd.Group) (*iamd.Group, error) {
	p, err := authorize(ctx, in.InstanceID, iamd.PrivilegeGroupWrite)
	if err != nil {
		return nil, err
	}
	if _, err := s.requireInstance(ctx, in.InstanceID); err != nil {
		return nil, err
	}
	now := s.clock()
	g := iamd.Group{
		InstanceID:    in.InstanceID,
		Name:          in.Name,
		Description:   in.Description,
		CreatedAt:     now,
		CreatedBy:     p.UserID,
		CreatedByName: p.Name,
		UpdatedAt:     now,
		UpdatedBy:     p.UserID,
		UpdatedByName: p.Name,
		Version:       1,
	}
	if in.ID == "" {
		g.ID = uuid.Must(uuid.NewV7()).String()
	} else {
		id, err := uuid.Parse(in.ID)
		if err != nil {
			return nil, iamd.Invalid(iamd.FieldID, "group id must be a UUID like 39520424-440c-41c0-9b9c-f22b2129f6f9")
		}
		g.ID = id.String()
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if err := s.store.CreateGroup(ctx, &g, s.event(ctx, p, g.InstanceID, iamd.ActionGroupCreate, "group", g.ID)); err != nil {
		return nil, err
	}
	return &g, nil
}

// GetGroup returns one group of the instance.
func (s *Service) GetGroup(ctx context.Context, instanceID, id string) (*iamd.Group, error) {
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeGroupRead); err != nil {
		return nil, err
	}
	return s.store.GetGroup(ctx, instanceID, id)
}

// ListGroups returns one page of the instance's groups.
func (s *Service) ListGroups(ctx context.Context, f iamd.GroupFilter) (*iamd.GroupPage, error) {
	if _, err := authorize(ctx, f.InstanceID, iamd.PrivilegeGroupRead); err != nil {
		return nil, err
	}
	if err := checkPage(f.Offset, &f.Limit); err != nil {
		return nil, err
	}
	if _, err := s.requireInstance(ctx, f.InstanceID); err != nil {
		return nil, err
	}
	return s.store.ListGroups(ctx, f)
}

// DeleteGroup removes a group and its memberships; its members stay.
func (s *Service) DeleteGroup(ctx context.Context, instanceID, id string) error {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeGroupWrite)
	if err != nil {
		return err
	}
	return s.store.DeleteGroup(ctx, instanceID, id, s.event(ctx, p, instanceID, iamd.ActionGroupDelete, "group", id))
}

// UpdateGroup renames a group and/or changes its description (GROUP_WRITE); nil leaves
// a field as it is. It re-reads and retries when another writer got there first.
func (s *Service) UpdateGroup(ctx context.Context, instanceID, id string, name, description *string) (*iamd.Group, error) {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeGroupWrite)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		cur, err := s.store.GetGroup(ctx, instanceID, id)
		if err != nil {
			return nil, err
		}
		next := *cur
		if name != nil {
			next.Name = *name
		}
		if description != nil {
			next.Description = *description
		}
		if next.Name == cur.Name && next.Description == cur.Description {
			return cur, nil
		}
		if err := next.Validate(); err != nil {
			return nil, err
		}
		next.Version, next.UpdatedAt, next.UpdatedBy, next.UpdatedByName = cur.Version+1, s.clock(), p.UserID, p.Name
		err = s.store.UpdateGroup(ctx, &next, cur.Version, s.event(ctx, p, instanceID, iamd.ActionGroupUpdate, "group", id))
		if iamd.ErrorCode(err) == iamd.ECONFLICT && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &next, nil
	}
}

// AddGroupMembers adds users to a group; users already members are left as they are.
func (s *Service) AddGroupMembers(ctx context.Context, instanceID, groupID string, userIDs []string) error {
	p, ids, err := membershipChange(ctx, instanceID, userIDs)
	if err != nil {
		return err
	}
	return s.store.AddGroupMembers(ctx, instanceID, groupID, ids, s.event(ctx, p, instanceID, iamd.ActionGroupAddMembers, "group", groupID))
}

// RemoveGroupMembers removes users from a group; users not members are ignored.
func (s *Service) RemoveGroupMembers(ctx context.Context, instanceID, groupID string, userIDs []string) error {
	p, ids, err := membershipChange(ctx, instanceID, userIDs)
	if err != nil {
		return err
	}
	return s.store.RemoveGroupMembers(ctx, instanceID, groupID, ids, s.event(ctx, p, instanceID, iamd.ActionGroupRemoveMem, "group", groupID))
}

func membershipChange(ctx context.Context, instanceID string, userIDs []string) (*iamd.Principal, []string, error) {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeGroupWrite)
	if err != nil {
		return nil, nil, err
	}
	ids := dedupe(userIDs)
	switch {
	case len(ids) == 0:
		return nil, nil, iamd.Invalid(iamd.FieldUserIDs, "user_ids must name at least one user")
	case len(ids) > MaxMembersPerCall:
		return nil, nil, &iamd.Error{Code: iamd.ETOOLARGE, Field: iamd.FieldUserIDs,
			Message: "at most 1000 users per call"}
	}
	return p, ids, nil
}
