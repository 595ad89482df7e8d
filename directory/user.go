package directory

import (
	"context"
	"reflect"
	"slices"
	"time"

	"iamd"
	"iamd/account"
)

// maxUpdateAttempts bounds the retries of an update that lost a race with another
// writer. Each retry re-reads the user, so no change is lost.
const maxUpdateAttempts = 5

// CreateUser creates a user, its group memberships and its password in one transaction.
func (s *Service) CreateUser(ctx context.Context, in *iamd.User, opts iamd.CreateUserOptions) (*iamd.User, error) {
	p, err := authorize(ctx, in.InstanceID, iamd.PrivilegeUserWrite)
	if err != nil {
		return nil, err
	}
	inst, err := s.requireInstance(ctx, in.InstanceID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	u := newUser(in, in.InstanceID, p, now)
	if len(in.Roles) > 0 || len(in.Privileges) > 0 { // granting is ROLE_WRITE's, as in SetUserRoles
		if _, err := authorize(ctx, in.InstanceID, iamd.PrivilegeRoleWrite); err != nil {
			return nil, err
		}
		u.Roles = dedupe(in.Roles)
		if u.Privileges, err = directPrivileges(in.Privileges); err != nil {
			return nil, err
		}
	}
	if err := u.Validate(); err != nil {
		return nil, err
	}
	if u.ElevatedUntil != nil && !u.ElevatedUntil.After(now) {
		return nil, iamd.Invalid(iamd.FieldElevatedUntil, "elevated permissions must expire in the future")
	}
	if opts.Password != "" {
		if u.SSO {
			return nil, iamd.Invalid(iamd.FieldPassword, "users who sign in through SSO have no password here")
		}
		if err := account.CheckPassword(inst.Policy, &u, opts.Password); err != nil {
			return nil, err
		}
		if u.PasswordHash, err = s.hashPassword(opts.Password); err != nil {
			return nil, err
		}
		u.PasswordChangedAt = &now
	}
	groupIDs := dedupe(opts.GroupIDs)
	ev := s.event(ctx, p, u.InstanceID, iamd.ActionUserCreate, "user", u.ID)
	if err := s.store.CreateUser(ctx, &u, groupIDs, ev); err != nil {
		return nil, err
	}
	if len(groupIDs) == 0 {
		return &u, nil
	}
	return s.store.GetUser(ctx, u.InstanceID, u.ID)
}

// GetUser returns one user of the instance.
func (s *Service) GetUser(ctx context.Context, instanceID, id string) (*iamd.User, error) {
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeUserRead); err != nil {
		return nil, err
	}
	return s.store.GetUser(ctx, instanceID, id)
}

// FindUserByLogin returns the user whose login name matches, ignoring case.
func (s *Service) FindUserByLogin(ctx context.Context, instanceID, loginName string) (*iamd.User, error) {
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeUserRead); err != nil {
		return nil, err
	}
	return s.store.GetUserByLogin(ctx, instanceID, loginName)
}

// ListUsers returns one page of the instance's users.
func (s *Service) ListUsers(ctx context.Context, f iamd.UserFilter) (*iamd.UserPage, error) {
	if _, err := authorize(ctx, f.InstanceID, iamd.PrivilegeUserRead); err != nil {
		return nil, err
	}
	if err := checkPage(f.Offset, &f.Limit); err != nil {
		return nil, err
	}
	for _, o := range f.Sort {
		switch o.Key {
		case iamd.SortByCreatedAt, iamd.SortByLoginName, iamd.SortByName, iamd.SortByUpdatedAt:
		default:
			return nil, iamd.Invalid(iamd.FieldSort, "cannot sort by %q", o.Key)
		}
	}
	if _, err := s.requireInstance(ctx, f.InstanceID); err != nil {
		return nil, err
	}
	return s.store.ListUsers(ctx, f)
}

// checkPage validates paging and applies the default page size.
func checkPage(offset int, limit *int) error {
	switch {
	case offset < 0:
		return iamd.Invalid(iamd.FieldPage, "page must not be negative")
	case *limit < 0:
		return iamd.Invalid(iamd.FieldSize, "size must not be negative")
	case *limit > iamd.MaxPageSize:
		return iamd.Invalid(iamd.FieldSize, "size must be at most %d", iamd.MaxPageSize)
	case *limit == 0:
		*limit = iamd.DefaultPageSize
	}
	return nil
}

// UpdateUser applies a partial change. It re-reads and retries when another writer got
// there first, so concurrent updates of different fields both take effect.
func (s *Service) UpdateUser(ctx context.Context, instanceID, id string, upd iamd.UserUpdate) (*iamd.User, error) {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeUserWrite)
	if err != nil {
		return nil, err
	}
	return s.updateUser(ctx, p, instanceID, id, upd)
}

// UpdateOwnProfile lets any signed-in user change its own name and email, and nothing
// else; the other fields of upd must be unset.
func (s *Service) UpdateOwnProfile(ctx context.Context, upd iamd.UserUpdate) (*iamd.User, error) {
	p := iamd.PrincipalFromContext(ctx)
	if p == nil || p.UserID == "" || p.PasswordChangeOnly {
		return nil, iamd.Errorf(iamd.EFORBIDDEN, "Only a signed-in user can change its own profile.")
	}
	own := iamd.UserUpdate{DisplayName: upd.DisplayName, GivenName: upd.GivenName, FamilyName: upd.FamilyName, Email: upd.Email}
	if !reflect.DeepEqual(own, upd) {
		return nil, iamd.Errorf(iamd.EFORBIDDEN, "A user can change only its own name and email.")
	}
	return s.updateUser(ctx, p, p.InstanceID, p.UserID, upd)
}

func (s *Service) updateUser(ctx context.Context, p *iamd.Principal, instanceID, id string, upd iamd.UserUpdate) (*iamd.User, error) {
	if e := upd.Elevation; e != nil && e.Until != nil && !e.Until.After(s.clock()) {
		return nil, iamd.Invalid(iamd.FieldElevatedUntil, "elevated permissions must expire in the future")
	}
	if upd.Status != nil && *upd.Status == "" {
		return nil, iamd.Invalid(iamd.FieldStatus, "status cannot be cleared")
	}
	if upd.Roles != nil || upd.Privileges != nil { // granting is ROLE_WRITE's, as in SetUserRoles
		if _, err := authorize(ctx, instanceID, iamd.PrivilegeRoleWrite); err != nil {
			return nil, err
		}
	}
	if upd.Roles != nil {
		roles := dedupe(*upd.Roles)
		slices.Sort(roles) // the order the store answers them in
		upd.Roles = &roles
	}
	if upd.Privileges != nil {
		privs, err := directPrivileges(*upd.Privileges)
		if err != nil {
			return nil, err
		}
		upd.Privileges = &privs
	}
	for attempt := 1; ; attempt++ {
		cur, err := s.store.GetUser(ctx, instanceID, id)
		if err != nil {
			return nil, err
		}
		next := *cur
		upd.Apply(&next)
		if reflect.DeepEqual(&next, cur) {
			return cur, nil
		}
		if err := next.Validate(); err != nil {
			return nil, err
		}
		next.Version = cur.Version + 1
		next.UpdatedAt = s.clock()
		next.UpdatedBy = p.UserID
		next.UpdatedByName = p.Name
		ev := s.event(ctx, p, instanceID, iamd.ActionUserUpdate, "user", id)
		stored := next
		if slices.Equal(next.Roles, cur.Roles) {
			stored.Roles = nil // unchanged: the store leaves them be
		}
		if slices.Equal(next.Privileges, cur.Privileges) {
			stored.Privileges = nil
		}
		err = s.store.UpdateUser(ctx, &stored, cur.Version, ev)
		if iamd.ErrorCode(err) == iamd.ECONFLICT && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &next, nil
	}
}

// DeleteUser removes a user and its memberships and credentials. Built-in users stay.
func (s *Service) DeleteUser(ctx context.Context, instanceID, id string) error {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeUserDelete)
	if err != nil {
		return err
	}
	u, err := s.store.GetUser(ctx, instanceID, id)
	if err != nil {
		return err
	}
	if u.Builtin {
		return iamd.Invalid(iamd.FieldID, "built-in user %q cannot be deleted", u.LoginName)
	}
	return s.store.DeleteUser(ctx, instanceID, id, s.event(ctx, p, instanceID, iamd.ActionUserDelete, "user", id))
}

// dedupe returns ids without repeats, in first-seen order.
// directPrivileges checks privileges granted to a user directly: known ones, and never
// INSTANCE_ADMIN, which only the platform's own roles carry. They come back sorted.
func directPrivileges(privileges []string) ([]string, error) {
	out := dedupe(privileges)
	for _, p := range out {
		if !iamd.IsPrivilege(p) || p == iamd.PrivilegeInstanceAdmin {
			return nil, iamd.Invalid(iamd.FieldPrivileges, "unknown privilege %q", p)
		}
	}
	slices.Sort(out)
	return out, nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// newUser is a user as the core creates it from what a caller gave: the fields a caller
// may choose, with id, stamps and version set. Account state and grants are the core's.
func newUser(in *iamd.User, instanceID string, p *iamd.Principal, now time.Time) iamd.User {
	u := iamd.User{
		InstanceID:        instanceID,
		LoginName:         in.LoginName,
		Realm:             in.Realm,
		DisplayName:       in.DisplayName,
		GivenName:         in.GivenName,
		FamilyName:        in.FamilyName,
		Email:             in.Email,
		EmailVerified:     in.EmailVerified,
		PhoneCountryCode:  in.PhoneCountryCode,
		PhoneNumber:       in.PhoneNumber,
		PhoneExtension:    in.PhoneExtension,
		PhoneVerified:     in.PhoneVerified,
		EmployeeNumber:    in.EmployeeNumber,
		Department:        in.Department,
		BusinessUnit:      in.BusinessUnit,
		Manager:           in.Manager,
		Organization:      in.Organization,
		Description:       in.Description,
		TimeZone:          in.TimeZone,
		Locale:            in.Locale,
		ExternalID:        in.ExternalID,
		Extra:             in.Extra,
		Status:            in.Status,
		ConsoleDenied:     in.ConsoleDenied,
		APIDenied:         in.APIDenied,
		SSO:               in.SSO,
		TemporaryPassword: in.TemporaryPassword,
		ElevatedUntil:     in.ElevatedUntil,

		ID:            iamd.NewID(),
		CreatedAt:     now,
		CreatedBy:     p.UserID,
		CreatedByName: p.Name,
		UpdatedAt:     now,
		UpdatedBy:     p.UserID,
		UpdatedByName: p.Name,
		Version:       1,
	}
	if u.Status == "" {
		u.Status = iamd.UserActive
	}
	return u
}
