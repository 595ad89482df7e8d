package iamd

import (
	"context"
	"slices"
)

// Privilege names. Every face operation needs one of them on the target instance.
const (
	PrivilegeUserRead      = "USER_READ"
	PrivilegeUserWrite     = "USER_WRITE"
	PrivilegeUserDelete    = "USER_DELETE"
	PrivilegeGroupRead     = "GROUP_READ"
	PrivilegeGroupWrite    = "GROUP_WRITE"
	PrivilegeAuditRead     = "AUDIT_READ"
	PrivilegeInstanceAdmin = "INSTANCE_ADMIN" // create instances: platform administrators only
)

// AllPrivileges lists every privilege the core knows.
var AllPrivileges = []string{
	PrivilegeUserRead, PrivilegeUserWrite, PrivilegeUserDelete,
	PrivilegeGroupRead, PrivilegeGroupWrite, PrivilegeRoleRead, PrivilegeRoleWrite,
	PrivilegeAuditRead, PrivilegeInstanceAdmin,
}

// GrantablePrivileges are the privileges a role may hold or a user be granted directly:
// all but INSTANCE_ADMIN, which only the platform administrator holds.
var GrantablePrivileges = slices.DeleteFunc(slices.Clone(AllPrivileges), func(p string) bool { return p == PrivilegeInstanceAdmin })

// IsGrantable reports whether privilege may be granted (see GrantablePrivileges).
func IsGrantable(privilege string) bool { return slices.Contains(GrantablePrivileges, privilege) }

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID        string
	InstanceID    string
	Name          string // display name, else login name: what audit stamps show
	PlatformAdmin bool   // every privilege on every instance
	Privileges    []string
	SessionID     string // set when the caller signed in, rather than using a key or API token
	// PasswordChangeOnly callers signed in with a temporary or expired password: they
	// may change it and sign out, nothing else.
	PasswordChangeOnly bool
	// Operator is the person at the database itself (the iamd CLI), a platform
	// administrator to whom built-in users are not immutable: the break-glass path for
	// the day the administrator is locked out. No credential authenticates as it.
	Operator bool
}

// Can reports whether p holds privilege on instanceID. A principal of another instance
// never can; callers answer ENOTFOUND so that existence does not leak.
func (p *Principal) Can(instanceID, privilege string) bool {
	if p == nil {
		return false
	}
	if p.PlatformAdmin {
		return true
	}
	return p.InstanceID == instanceID && slices.Contains(p.Privileges, privilege)
}

// Rights are what a user may do: its effective privileges (direct, through its roles and
// through its groups' roles) and whether it administers the platform.
type Rights struct {
	PlatformAdmin bool
	Privileges    []string
}

// Holds reports whether p holds every one of privileges on its own instance: what a
// caller must hold to grant them, or to act on a user who has them.
func (p *Principal) Holds(privileges []string) bool {
	if p == nil {
		return false
	}
	if p.PlatformAdmin {
		return true
	}
	for _, priv := range privileges {
		if !slices.Contains(p.Privileges, priv) {
			return false
		}
	}
	return true
}

// Covers reports whether p has every right of a user with rights r: only then may p act
// on that user (change, rename, delete it, set its password or MFA, issue or revoke its
// credentials). Only a platform administrator covers a platform administrator.
func (p *Principal) Covers(r Rights) bool {
	if r.PlatformAdmin && (p == nil || !p.PlatformAdmin) {
		return false
	}
	return p.Holds(r.Privileges)
}

// ErrNotCovered is the refusal of a caller acting on a user with rights it does not have.
func ErrNotCovered() *Error {
	return &Error{Code: EFORBIDDEN, Rule: RuleRights, Message: "The caller cannot act on a user with rights it does not have itself."}
}

// Sees reports whether p may know that instanceID exists.
func (p *Principal) Sees(instanceID string) bool {
	return p != nil && (p.PlatformAdmin || p.InstanceID == instanceID)
}

// Authorize returns the caller in ctx if it holds privilege on instanceID. A caller that
// may not even see the instance gets ENOTFOUND, so that other tenants' existence does not
// leak; one that sees it but lacks the privilege gets EFORBIDDEN.
func Authorize(ctx context.Context, instanceID, privilege string) (*Principal, error) {
	p := PrincipalFromContext(ctx)
	switch {
	case p == nil:
		return nil, Errorf(EUNAUTHENTICATED, "Authentication required.")
	case p.PasswordChangeOnly:
		return p, Errorf(EFORBIDDEN, "The password must be changed before anything else.")
	case !p.Sees(instanceID):
		return nil, Errorf(ENOTFOUND, "No instance with id %q.", instanceID)
	case !p.Can(instanceID, privilege):
		return p, Errorf(EFORBIDDEN, "The caller lacks the %s privilege on instance %s.", privilege, instanceID)
	}
	return p, nil
}

type contextKey int

const (
	principalKey contextKey = iota
	sourceKey
)

// NewContextWithPrincipal returns ctx carrying the authenticated caller.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFromContext returns the caller, or nil.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

// Origin is where a request came from, as the audit trail records it: the face it
// came through ("scp", "native", "cli", …) and the client's network address.
type Origin struct {
	Face    string
	Address string
}

// NewContextWithOrigin returns ctx carrying the request's origin for audit.
func NewContextWithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, sourceKey, &o)
}

// NewContextWithSource returns ctx carrying the client's network address for audit,
// keeping the face an outer context named.
func NewContextWithSource(ctx context.Context, addr string) context.Context {
	return NewContextWithOrigin(ctx, Origin{Face: FaceFromContext(ctx), Address: addr})
}

// SourceFromContext returns the client's network address, or "".
func SourceFromContext(ctx context.Context) string {
	if o, _ := ctx.Value(sourceKey).(*Origin); o != nil {
		return o.Address
	}
	return ""
}

// FaceFromContext returns the face the request came through, or "".
func FaceFromContext(ctx context.Context) string {
	if o, _ := ctx.Value(sourceKey).(*Origin); o != nil {
		return o.Face
	}
	return ""
}

// Together is the caller that p and q, credentials a request sent together, both
// allow; nil p is q alone. They must name one user and, where both are sign-ins, one
// session: else EUNAUTHENTICATED. What each allows is read from the same user, so one
// is normally the other's equal or its password-change-only limit, and Together is then
// that one. Should they differ otherwise (the user's rights changed between the two
// reads), it is less than either: the privileges both hold, platform administration
// only if both have it, password change only if either is so limited. The session is
// the sign-in's, if one names one; it grants nothing.
func Together(p, q *Principal) (*Principal, error) {
	switch {
	case p == nil:
		return q, nil
	case p.InstanceID != q.InstanceID || p.UserID != q.UserID || p.SessionID != "" && q.SessionID != "" && p.SessionID != q.SessionID:
		return nil, Errorf(EUNAUTHENTICATED, "The credentials sent name different users or sign-ins: "+
			"send one, or the access token and ID token of one sign-in.")
	}
	c := *p
	switch {
	case p.PlatformAdmin && q.PlatformAdmin:
	case p.PlatformAdmin:
		c.Privileges = slices.Clone(q.Privileges)
	case q.PlatformAdmin:
		c.Privileges = slices.Clone(p.Privileges)
	default:
		c.Privileges = slices.DeleteFunc(slices.Clone(p.Privileges), func(x string) bool { return !slices.Contains(q.Privileges, x) })
	}
	c.PlatformAdmin = p.PlatformAdmin && q.PlatformAdmin
	c.Operator = p.Operator && q.Operator
	if c.PasswordChangeOnly = p.PasswordChangeOnly || q.PasswordChangeOnly; c.PasswordChangeOnly {
		c.PlatformAdmin, c.Privileges = false, nil
	}
	if c.SessionID == "" {
		c.SessionID = q.SessionID
	}
	return &c, nil
}
