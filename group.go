package iamd

import (
	"context"
	"strings"
	"time"
)

// Group is a named set of users in one instance; groups may be members of groups
// (nested), and a nested group's users are members of every group that holds it. Group ids are UUIDs in their
// canonical dashed form (as SCP shows them); an id may be given on create so that
// groups can be imported with the ids other systems already know.
type Group struct {
	ID            string
	InstanceID    string
	Name          string
	Description   string
	ExternalID    string   // the provisioning client's id for the group (SCIM's externalId)
	Roles         []string // role names whose privileges members inherit
	MemberCount   int
	CreatedAt     time.Time
	CreatedBy     string
	CreatedByName string
	UpdatedAt     time.Time
	UpdatedBy     string
	UpdatedByName string
	Version       int64
}

// Validate checks a group before it is stored.
func (g *Group) Validate() error {
	if g.Name == "" {
		return Invalid(FieldName, "name is required")
	}
	if err := CheckText(FieldName, g.Name, MaxNameLen); err != nil {
		return err
	}
	if err := CheckText(FieldExternalID, g.ExternalID, MaxTextLen); err != nil {
		return err
	}
	return CheckText(FieldDescription, g.Description, MaxDescriptionLen)
}

// GroupNameKey is the form under which group names are compared: the same for every
// store, so uniqueness does not depend on a database's collation.
func GroupNameKey(name string) string { return strings.ToLower(name) }

// GroupUpdate is a change to a group; nil leaves a field as it is.
type GroupUpdate struct {
	Name, Description, ExternalID *string
}

// GroupFilter selects groups of one instance.
type GroupFilter struct {
	// MayLag lets the store answer from a standby that may lag (see UserFilter.MayLag).
	MayLag     bool
	InstanceID string
	Name       string // exact match, case-insensitive
	ID         string // exact match
	ExternalID string // exact match
	MemberID   string // groups holding this user or group directly
	Offset     int
	Limit      int
}

// GroupPage is one page of groups; Total counts every match.
type GroupPage struct {
	Groups []Group
	Total  int
}

// GroupMembers are members of a group: users, and groups nested in it. Either names
// members whose kind the caller does not say (SCIM's members without a type): each is the
// user with that id if there is one, else the group.
type GroupMembers struct {
	Users, Groups, Either []string
}

// Empty reports whether m names no member.
func (m GroupMembers) Empty() bool { return len(m.Users)+len(m.Groups)+len(m.Either) == 0 }

// GroupChange is everything one request changes about a group, made at once.
type GroupChange struct {
	// Version, when not 0, is the version the change was made from as the request's
	// body says; a group that has moved on refuses it (ECONFLICT naming FieldVersion).
	Version int64
	GroupUpdate
	Add, Remove GroupMembers
	// Members, when set, makes the members exactly these (Add and Remove are then unused).
	Members *GroupMembers
}

// GroupEdit turns a group as it is now into the change a request asks for; like
// UserEdit, it is called again with the group as it then is if another writer got
// there first.
type GroupEdit func(current *Group) (*GroupChange, error)

// GroupService manages groups and their members. A group that carries roles grants
// them to its members: adding or removing members, nesting it or deleting it then needs
// ROLE_WRITE and every privilege it grants, as granting the roles directly would.
type GroupService interface {
	// CreateGroup creates g with its first members, in one transaction.
	CreateGroup(ctx context.Context, g *Group, members GroupMembers) (*Group, error)
	GetGroup(ctx context.Context, instanceID, id string) (*Group, error)
	ListGroups(ctx context.Context, f GroupFilter) (*GroupPage, error)
	// ChangeGroup makes the change edit asks for; version, when not 0, is the version
	// the caller last saw (ECONFLICT naming FieldVersion if the group changed since).
	ChangeGroup(ctx context.Context, instanceID, id string, version int64, edit GroupEdit) (*Group, error)
	DeleteGroup(ctx context.Context, instanceID, id string, version int64) error
	ListMemberGroups(ctx context.Context, instanceID, groupID string) ([]GroupRef, error)
	// GroupMembersOf returns the direct members of each of groupIDs (a listing's page of
	// groups), read for them all at once; a group not found has none. It shows users, so
	// it needs USER_READ beside GROUP_READ.
	GroupMembersOf(ctx context.Context, instanceID string, groupIDs []string) (map[string]GroupMemberList, error)
}

// GroupMemberList is a group's direct members: its users by login name (ignoring
// case, then id), and the groups nested in it by name (ignoring case, then id).
type GroupMemberList struct {
	Users  []MemberUser
	Groups []GroupRef
}

// MemberUser is a user as a list of members shows it.
type MemberUser struct {
	ID, LoginName, DisplayName string
}
