package directory

import (
	"context"
	"fmt"
	"slices"

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
	if add, err = s.resolveMembers(ctx, p, g.InstanceID, add, false); err != nil {
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
	m = iamd.GroupMembers{Users: dedupe(m.Users), Groups: dedupe(m.Groups), Either: dedupe(m.Either)}
	if len(m.Users)+len(m.Either) > MaxMembersPerCall {
		return m, &iamd.Error{Code: iamd.ETOOLARGE, Field: iamd.FieldUserIDs, Message: fmt.Sprintf("at most %d users per call", MaxMembersPerCall)}
	}
	if len(m.Groups) > MaxMembersPerCall {
		return m, &iamd.Error{Code: iamd.ETOOLARGE, Field: iamd.FieldMemberGroupIDs, Message: fmt.Sprintf("at most %d groups per call", MaxMembersPerCall)}
	}
	return m, nil
}

// resolveMembers tells the members m names either way apart — users if there are users
// of those ids, else groups — and refuses built-in users and users of another realm,
// whose memberships are not the API's to change. A member added must exist
// (ENOTFOUND naming it); one removed that does not is already gone and dropped.
func (s *Service) resolveMembers(ctx context.Context, p *iamd.Principal, instanceID string, m iamd.GroupMembers, removing bool) (iamd.GroupMembers, error) {
	users, err := s.usersByID(ctx, instanceID, append(slices.Clone(m.Users), m.Either...))
	if err != nil {
		return m, err
	}
	for _, id := range m.Either {
		switch _, isUser := users[id]; {
		case isUser:
			m.Users = append(m.Users, id)
		default:
			_, err := s.store.GetGroup(ctx, instanceID, id)
			switch {
			case err == nil:
				m.Groups = append(m.Groups, id)
			case iamd.ErrorCode(err) != iamd.ENOTFOUND:
				return m, err
			case !removing:
				return m, &iamd.Error{Code: iamd.ENOTFOUND, Field: iamd.FieldUserIDs, Message: fmt.Sprintf("No user or group with id %q.", id)}
			}
		}
	}
	m.Either = nil
	for _, id := range m.Users {
		if u, ok := users[id]; ok && !p.Operator {
			if err := protectedRecord(u); err != nil {
				return m, err
			}
		}
	}
	return m, nil
}

// usersByID reads the instance's users among ids, a hundred a query.
func (s *Service) usersByID(ctx context.Context, instanceID string, ids []string) (map[string]*iamd.User, error) {
	found := map[string]*iamd.User{}
	for start := 0; start < len(ids); start += iamd.MaxWhereTerms {
		var anyOf iamd.AnyOf
		for _, id := range ids[start:min(start+iamd.MaxWhereTerms, len(ids))] {
			anyOf = append(anyOf, iamd.Match{Field: iamd.FieldID, Op: iamd.MatchEq, Value: id, CaseExact: true})
		}
		page, err := s.store.ListUsers(ctx, iamd.UserFilter{InstanceID: instanceID, Where: anyOf, Limit: iamd.MaxPageSize})
		if err != nil {
			return nil, err
		}
		for i := range page.Users {
			found[page.Users[i].ID] = &page.Users[i]
		}
	}
	return found, nil
}

// currentMembers reads a group's direct members, users and groups, in one read.
func (s *Service) currentMembers(ctx context.Context, g *iamd.Group) (iamd.GroupMembers, error) {
	var m iamd.GroupMembers
	lists, err := s.store.GroupMembersOf(ctx, g.InstanceID, []string{g.ID})
	for _, u := range lists[g.ID].Users {
		m.Users = append(m.Users, u.ID)
	}
	for _, r := range lists[g.ID].Groups {
		m.Groups = append(m.Groups, r.ID)
	}
	return m, err
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
	f.MayLag = f.Name == "" && f.ID == "" && f.ExternalID == "" // look-ups read one's own writes
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
		if err := checkGroupVersion(version, cur); err != nil {
			return nil, err
		}
		change, err := edit(cur)
		if err != nil {
			return nil, err
		}
		if change == nil {
			return cur, nil
		}
		if err := checkGroupVersion(change.Version, cur); err != nil {
			return nil, err
		}
		// Who may change the members is decided before the members named are looked at.
		membersChange := change.Members != nil || !change.Add.Empty() || !change.Remove.Empty()
		if membersChange {
			if err := s.authorizeGroupGrants(ctx, p, instanceID, cur.ID); err != nil {
				return nil, err
			}
		}
		w := iamd.GroupWrite{ExpectedVersion: cur.Version}
		if w.Add, err = checkMembers(change.Add); err != nil {
			return nil, err
		}
		if w.Remove, err = checkMembers(change.Remove); err != nil {
			return nil, err
		}
		var all iamd.GroupMembers
		if change.Members != nil {
			if all, err = checkMembers(*change.Members); err != nil {
				return nil, err
			}
		}
		if membersChange {
			if change.Members != nil {
				// The members are made exactly these: what to add and remove is read from
				// the group at this version, which the write is held to.
				if all, err = s.resolveMembers(ctx, p, instanceID, all, false); err != nil {
					return nil, err
				}
				now, err := s.currentMembers(ctx, cur)
				if err != nil {
					return nil, err
				}
				w.Add = iamd.GroupMembers{Users: without(all.Users, now.Users), Groups: without(all.Groups, now.Groups)}
				w.Remove = iamd.GroupMembers{Users: without(now.Users, all.Users), Groups: without(now.Groups, all.Groups)}
			} else if w.Add, err = s.resolveMembers(ctx, p, instanceID, w.Add, false); err != nil {
				return nil, err // (members replaced were resolved and checked above)
			}
			if w.Remove, err = s.resolveMembers(ctx, p, instanceID, w.Remove, true); err != nil {
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
		if isVersionConflict(err) && version == 0 && change.Version == 0 && attempt < maxUpdateAttempts {
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
	case fieldsChange:
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

// DeleteGroup removes a group and its memberships; its members stay (GROUP_WRITE, and
// what revoking the group's roles from them needs).
func (s *Service) DeleteGroup(ctx context.Context, instanceID, id string, version int64) error {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeGroupWrite)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		cur, err := s.store.GetGroup(ctx, instanceID, id)
		if err != nil {
			return err
		}
		if err := s.authorizeGroupGrants(ctx, p, instanceID, id); err != nil {
			return err
		}
		if err := checkGroupVersion(version, cur); err != nil {
			return err
		}
		// Deleted at the version authorized: a group that gained roles meanwhile is
		// authorized again.
		err = s.store.DeleteGroup(ctx, instanceID, id, cur.Version, s.event(ctx, p, instanceID, iamd.ActionGroupDelete, "group", id))
		if isVersionConflict(err) && version == 0 && attempt < maxUpdateAttempts {
			continue
		}
		return err
	}
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

// GroupMembersOf returns the direct members of a page of groups, read at once. It shows
// the groups' users as well as their nested groups: GROUP_READ and USER_READ.
func (s *Service) GroupMembersOf(ctx context.Context, instanceID string, groupIDs []string) (map[string]iamd.GroupMemberList, error) {
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeGroupRead); err != nil {
		return nil, err
	}
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeUserRead); err != nil {
		return nil, err
	}
	if len(groupIDs) == 0 {
		return map[string]iamd.GroupMemberList{}, nil
	}
	return s.store.GroupMembersOf(ctx, instanceID, groupIDs)
}

// GroupWithMembers returns a group and its direct members, as a group's page shows it.
func (s *Service) GroupWithMembers(ctx context.Context, instanceID, id string) (*iamd.Group, iamd.GroupMemberList, error) {
	g, err := s.GetGroup(ctx, instanceID, id)
	if err != nil {
		return nil, iamd.GroupMemberList{}, err
	}
	members, err := s.GroupMembersOf(ctx, instanceID, []string{id})
	if err != nil {
		return nil, iamd.GroupMemberList{}, err
	}
	return g, members[id], nil
}

// checkGroupVersion refuses a change made from another version of the group than cur's
// (version 0: from whatever it is now).
func checkGroupVersion(version int64, cur *iamd.Group) error {
	if version != 0 && cur.Version != version {
		return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldVersion,
			Message: "The group has changed since the version this change was made from."}
	}
	return nil
}
