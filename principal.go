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

// NewContextWithSource returns ctx carrying the client's network address for audit.
func NewContextWithSource(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, sourceKey, addr)
}

// SourceFromContext returns the client's network address, or "".
func SourceFromContext(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey).(string)
	return s
}
