package directory

import (
	"context"
	"fmt"

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
		ExternalID:    in.ExternalID,
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

// UpdateGroup renames a group or changes its description or external id (GROUP_WRITE).
// It re-reads and retries when another writer got there first.
func (s *Service) UpdateGroup(ctx context.Context, instanceID, id string, upd iamd.GroupUpdate) (*iamd.Group, error) {
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
		for _, f := range []struct{ dst, src *string }{{&next.Name, upd.Name}, {&next.Description, upd.Description},
			{&next.ExternalID, upd.ExternalID}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if next.Name == cur.Name && next.Description == cur.Description && next.ExternalID == cur.ExternalID {
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
	p, ids, err := membershipChange(ctx, instanceID, userIDs, iamd.FieldUserIDs, "user")
	if err != nil {
		return err
	}
	return s.store.AddGroupMembers(ctx, instanceID, groupID, ids, s.event(ctx, p, instanceID, iamd.ActionGroupAddMembers, "group", groupID))
}

// RemoveGroupMembers removes users from a group; users not members are ignored.
func (s *Service) RemoveGroupMembers(ctx context.Context, instanceID, groupID string, userIDs []string) error {
	p, ids, err := membershipChange(ctx, instanceID, userIDs, iamd.FieldUserIDs, "user")
	if err != nil {
		return err
	}
	return s.store.RemoveGroupMembers(ctx, instanceID, groupID, ids, s.event(ctx, p, instanceID, iamd.ActionGroupRemoveMem, "group", groupID))
}

// membershipChange authorizes a change of a group's members and checks the ids it names
// (field; what, "user" or "group", in messages): at least one, at most MaxMembersPerCall.
func membershipChange(ctx context.Context, instanceID string, ids []string, field, what string) (*iamd.Principal, []string, error) {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeGroupWrite)
	if err != nil {
		return nil, nil, err
	}
	ids = dedupe(ids)
	switch {
	case len(ids) == 0:
		return nil, nil, iamd.Invalid(field, "%s must name at least one %s", field, what)
	case len(ids) > MaxMembersPerCall:
		return nil, nil, &iamd.Error{Code: iamd.ETOOLARGE, Field: field, Message: fmt.Sprintf("at most %d %ss per call", MaxMembersPerCall, what)}
	}
	return p, ids, nil
}

// AddMemberGroups nests groups in a group (GROUP_WRITE): their users become members of
// it, and of every group above it. A nesting that would make a group its own member is
// refused.
func (s *Service) AddMemberGroups(ctx context.Context, instanceID, groupID string, memberGroupIDs []string) error {
	p, ids, err := membershipChange(ctx, instanceID, memberGroupIDs, iamd.FieldMemberGroupIDs, "group")
	if err != nil {
		return err
	}
	return s.store.AddMemberGroups(ctx, instanceID, groupID, ids, s.event(ctx, p, instanceID, iamd.ActionGroupNest, "group", groupID))
}

// RemoveMemberGroups takes nested groups out of a group; groups not nested in it are ignored.
func (s *Service) RemoveMemberGroups(ctx context.Context, instanceID, groupID string, memberGroupIDs []string) error {
	p, ids, err := membershipChange(ctx, instanceID, memberGroupIDs, iamd.FieldMemberGroupIDs, "group")
	if err != nil {
		return err
	}
	return s.store.RemoveMemberGroups(ctx, instanceID, groupID, ids, s.event(ctx, p, instanceID, iamd.ActionGroupUnnest, "group", groupID))
}

// ListMemberGroups returns the groups nested directly in a group (GROUP_READ).
func (s *Service) ListMemberGroups(ctx context.Context, instanceID, groupID string) ([]iamd.GroupRef, error) {
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeGroupRead); err != nil {
		return nil, err
	}
	if _, err := s.store.GetGroup(ctx, instanceID, groupID); err != nil {
		return nil, err
	}
	return s.store.ListMemberGroups(ctx, instanceID, groupID)
}
