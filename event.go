package iamd

import (
	"context"
	"time"
)

// Event is one append-only audit record: every change and every sign-in.
type Event struct {
	ID         int64
	InstanceID string
	ActorID    string // the acting user's id; "" for the system itself (bootstrap)
	ActorName  string
	Action     string // one of the Action* constants
	TargetType string // "user", "group", "instance", "access_key", "api_token"
	TargetID   string
	Outcome    string // OutcomeSuccess or OutcomeFailure
	Reason     string // why a failure failed; for the audit log only, never sent to the caller
	Source     string // the client's network address
	Face       string // the face the request came through: "scp", "native", "cli", …
	// Changes names the fields a change set, in the vocabulary of iamd's own API
	// ("display_name", "password"): never their values.
	Changes []string
	Time    time.Time
}

// FaceSystem is the face of events iamd makes on its own account (bootstrap).
const FaceSystem = "system"

const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

const (
	ActionInstanceCreate  = "instance.create"
	ActionInstanceDelete  = "instance.delete"
	ActionUserCreate      = "user.create"
	ActionUserUpdate      = "user.update"
	ActionUserDelete      = "user.delete"
	ActionUserImport      = "user.import"
	ActionGroupCreate     = "group.create"
	ActionGroupDelete     = "group.delete"
	ActionGroupUpdate     = "group.update"
	ActionGroupAddMembers = "group.members.add"
	ActionGroupRemoveMem  = "group.members.remove"
	ActionGroupNest       = "group.groups.add"
	ActionGroupUnnest     = "group.groups.remove"
	ActionAccessKeyCreate = "access_key.create"
	ActionAPITokenCreate  = "api_token.create"
	ActionPasswordSet     = "password.set"
	ActionPasswordRehash  = "password.rehash"
	ActionSignIn          = "sign_in"
	ActionSignOut         = "sign_out"
	ActionSessionRefresh  = "session.refresh"
	ActionSessionsExpire  = "sessions.expire"
	ActionSessionRevoke   = "session.revoke"
	ActionUserTag         = "user.tags.put"
	ActionUserUntag       = "user.tags.delete"
	ActionUserLock        = "user.lock"
	ActionUserUnlock      = "user.unlock"
	ActionPolicySet       = "instance.policy.set"
	ActionAccessKeyRevoke = "access_key.revoke"
	ActionAPITokenRevoke  = "api_token.revoke"
	ActionMFAEnrol        = "mfa.enrol"
	ActionMFAConfirm      = "mfa.confirm"
	ActionMFADisable      = "mfa.disable"
	ActionRoleCreate      = "role.create"
	ActionRoleDelete      = "role.delete"
	ActionRoleUpdate      = "role.update"
	ActionRolesAssign     = "user.roles.set"
)

// EventFilter selects audit events, newest first. Zero fields do not filter.
type EventFilter struct {
	InstanceID string
	TargetID   string
	ActorID    string
	Action     string
	Since      time.Time // events at or after
	Until      time.Time // events before
	// Before continues a listing: only events with a smaller ID, the last one a page
	// returned.
	Before int64
	Limit  int
}

// EventService reads the audit log.
type EventService interface {
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)
}

// EventPruner removes audit events older than a retention period.
type EventPruner interface {
	// DeleteEventsBefore removes every instance's events older than t and reports how
	// many it removed.
	DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error)
}
