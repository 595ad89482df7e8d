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

// CreateGroup creates a group with its first members (GROUP_WRITE), in one transaction.
// An id may be given (a UUID, for imports); else one is made. Unless the instance allows
// duplicates, the name must be free in the instance, ignoring case (ECONFLICT naming
// FieldName): the database holds that, so two concurrent creates cannot both win.
func (s *Service) CreateGroup(ctx context.Context, in *iamd.Group, members iamd.GroupMembers) (*iamd.Group, error) {
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
	add, err := checkMembers(members)
	if err != nil {
		return nil, err
	}
	// A new group carries no roles: its first members are granted nothing.
	w := iamd.GroupWrite{Group: &g, Add: add, Event: s.event(ctx, p, g.InstanceID, iamd.ActionGroupCreate, "group", g.ID)}
	if err := s.store.CreateGroup(ctx, w); err != nil {
		return nil, err
	}
	if add.Empty() {
		return &g, nil
	}
	return s.store.GetGroup(ctx, g.InstanceID, g.ID)
}

// checkMembers removes repeats and bounds a membership change.
func checkMembers(m iamd.GroupMembers) (iamd.GroupMembers, error) {
	m = iamd.GroupMembers{Users: dedupe(m.Users), Groups: dedupe(m.Groups)}
	if len(m.Users) > MaxMembersPerCall {
		return m, &iamd.Error{Code: iamd.ETOOLARGE, Field: iamd.FieldUserIDs, Message: fmt.Sprintf("at most %d users per call", MaxMembersPerCall)}
	}
	if len(m.Groups) > MaxMembersPerCall {
		return m, &iamd.Error{Code: iamd.ETOOLARGE, Field: iamd.FieldMemberGroupIDs, Message: fmt.Sprintf("at most %d groups per call", MaxMembersPerCall)}
	}
	return m, nil
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

// ChangeGroup makes one change to a group — its name, description, external id and
// members together — in one transaction (GROUP_WRITE). Changing the members of a group
// that carries roles grants or revokes them, so it needs ROLE_WRITE and every privilege
// the group grants. Like ChangeUser it reads the group again and calls edit again when
// another writer got there first, unless version names the version the change was made
// from.
func (s *Service) ChangeGroup(ctx context.Context, instanceID, id string, version int64, edit iamd.GroupEdit) (*iamd.Group, error) {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeGroupWrite)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		cur, err := s.store.GetGroup(ctx, instanceID, id)
		if err != nil {
			return nil, err
		}
		if version != 0 && cur.Version != version {
			return nil, &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldVersion,
				Message: "The group has changed since the version this change was made from."}
		}
		change, err := edit(cur)
		if err != nil {
			return nil, err
		}
		if change == nil {
			return cur, nil
		}
		w := iamd.GroupWrite{ExpectedVersion: cur.Version}
		if w.Add, err = checkMembers(change.Add); err != nil {
			return nil, err
		}
		if w.Remove, err = checkMembers(change.Remove); err != nil {
			return nil, err
		}
		if change.Members != nil {
			all, err := checkMembers(*change.Members)
			if err != nil {
				return nil, err
			}
			w.Members, w.Add, w.Remove = &all, iamd.GroupMembers{}, iamd.GroupMembers{}
		}
		membersChange := w.Members != nil || !w.Add.Empty() || !w.Remove.Empty()
		if membersChange {
			if err := s.authorizeGroupGrants(ctx, p, instanceID, cur.ID); err != nil {
				return nil, err
			}
		}
		next := *cur
		for _, f := range []struct{ dst, src *string }{{&next.Name, change.Name}, {&next.Description, change.Description},
			{&next.ExternalID, change.ExternalID}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		fieldsChange := next.Name != cur.Name || next.Description != cur.Description || next.ExternalID != cur.ExternalID
		if !fieldsChange && !membersChange {
			return cur, nil
		}
		if err := next.Validate(); err != nil {
			return nil, err
		}
		next.Version, next.UpdatedAt, next.UpdatedBy, next.UpdatedByName = cur.Version+1, s.clock(), p.UserID, p.Name
		w.Group = &next
		w.Event = s.event(ctx, p, instanceID, groupAction(fieldsChange, w), "group", id)
		err = s.store.UpdateGroup(ctx, w)
		if isVersionConflict(err) && version == 0 && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !membersChange {
			return &next, nil
		}
		return s.store.GetGroup(ctx, instanceID, id)
	}
}

// groupAction is the audit action of a change: what it did, when it did one thing.
func groupAction(fieldsChange bool, w iamd.GroupWrite) string {
	switch {
	case fieldsChange || w.Members != nil:
		return iamd.ActionGroupUpdate
	case len(w.Add.Users) > 0 && w.Remove.Empty() && len(w.Add.Groups) == 0:
		return iamd.ActionGroupAddMembers
	case len(w.Remove.Users) > 0 && w.Add.Empty() && len(w.Remove.Groups) == 0:
		return iamd.ActionGroupRemoveMem
	case len(w.Add.Groups) > 0 && w.Remove.Empty() && len(w.Add.Users) == 0:
		return iamd.ActionGroupNest
	case len(w.Remove.Groups) > 0 && w.Add.Empty() && len(w.Remove.Users) == 0:
		return iamd.ActionGroupUnnest
	}
	return iamd.ActionGroupUpdate
}

// authorizeGroupGrants lets p change who a group's roles reach — its members, the
// groups nested in it, whether it exists — only with ROLE_WRITE and every privilege it
// grants, when it grants any.
func (s *Service) authorizeGroupGrants(ctx context.Context, p *iamd.Principal, instanceID, groupID string) error {
	privileges, err := s.store.GroupGrants(ctx, instanceID, groupID)
	if err != nil || len(privileges) == 0 {
		return err
	}
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeRoleWrite); err != nil {
		return err
	}
	return mayGrant(p, privileges)
}

// UpdateGroup renames a group or changes its description or external id (see ChangeGroup).
func (s *Service) UpdateGroup(ctx context.Context, instanceID, id string, upd iamd.GroupUpdate) (*iamd.Group, error) {
	return s.ChangeGroup(ctx, instanceID, id, 0, func(*iamd.Group) (*iamd.GroupChange, error) {
		return &iamd.GroupChange{GroupUpdate: upd}, nil
	})
}

// AddGroupMembers adds users to a group; users already members are left as they are.
func (s *Service) AddGroupMembers(ctx context.Context, instanceID, groupID string, userIDs []string) error {
	return s.changeMembers(ctx, instanceID, groupID, userIDs, iamd.FieldUserIDs, "user", iamd.GroupChange{Add: iamd.GroupMembers{Users: userIDs}})
}

// RemoveGroupMembers removes users from a group; users not members are ignored.
func (s *Service) RemoveGroupMembers(ctx context.Context, instanceID, groupID string, userIDs []string) error {
	return s.changeMembers(ctx, instanceID, groupID, userIDs, iamd.FieldUserIDs, "user", iamd.GroupChange{Remove: iamd.GroupMembers{Users: userIDs}})
}

// AddMemberGroups nests groups in a group: their users become members of it, and of
// every group above it. A nesting that would make a group its own member is refused.
func (s *Service) AddMemberGroups(ctx context.Context, instanceID, groupID string, memberGroupIDs []string) error {
	return s.changeMembers(ctx, instanceID, groupID, memberGroupIDs, iamd.FieldMemberGroupIDs, "group",
		iamd.GroupChange{Add: iamd.GroupMembers{Groups: memberGroupIDs}})
}

// RemoveMemberGroups takes nested groups out of a group; groups not nested in it are ignored.
func (s *Service) RemoveMemberGroups(ctx context.Context, instanceID, groupID string, memberGroupIDs []string) error {
	return s.changeMembers(ctx, instanceID, groupID, memberGroupIDs, iamd.FieldMemberGroupIDs, "group",
		iamd.GroupChange{Remove: iamd.GroupMembers{Groups: memberGroupIDs}})
}

// changeMembers makes a membership change of ids (named as field, each a what), which
// must name at least one.
func (s *Service) changeMembers(ctx context.Context, instanceID, groupID string, ids []string, field, what string, change iamd.GroupChange) error {
	if len(ids) == 0 {
		if _, err := authorize(ctx, instanceID, iamd.PrivilegeGroupWrite); err != nil {
			return err
		}
		return iamd.Invalid(field, "%s must name at least one %s", field, what)
	}
	_, err := s.ChangeGroup(ctx, instanceID, groupID, 0, func(*iamd.Group) (*iamd.GroupChange, error) { return &change, nil })
	return err
}

// DeleteGroup removes a group and its memberships; its members stay (GROUP_WRITE, and
// what revoking the group's roles from them needs).
func (s *Service) DeleteGroup(ctx context.Context, instanceID, id string, version int64) error {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeGroupWrite)
	if err != nil {
		return err
	}
	if err := s.authorizeGroupGrants(ctx, p, instanceID, id); err != nil {
		return err
	}
	return s.store.DeleteGroup(ctx, instanceID, id, version, s.event(ctx, p, instanceID, iamd.ActionGroupDelete, "group", id))
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
