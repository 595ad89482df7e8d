package iamd

import (
	"context"
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

// GroupUpdate is a change to a group; nil leaves a field as it is.
type GroupUpdate struct {
	Name, Description, ExternalID *string
}

// GroupFilter selects groups of one instance.
type GroupFilter struct {
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

// GroupService manages groups and their members.
type GroupService interface {
	CreateGroup(ctx context.Context, g *Group) (*Group, error)
	GetGroup(ctx context.Context, instanceID, id string) (*Group, error)
	ListGroups(ctx context.Context, f GroupFilter) (*GroupPage, error)
	DeleteGroup(ctx context.Context, instanceID, id string) error
	AddGroupMembers(ctx context.Context, instanceID, groupID string, userIDs []string) error
	RemoveGroupMembers(ctx context.Context, instanceID, groupID string, userIDs []string) error
	AddMemberGroups(ctx context.Context, instanceID, groupID string, memberGroupIDs []string) error
	RemoveMemberGroups(ctx context.Context, instanceID, groupID string, memberGroupIDs []string) error
	ListMemberGroups(ctx context.Context, instanceID, groupID string) ([]GroupRef, error)
}
