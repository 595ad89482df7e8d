package directory

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"time"

	"iamd"
)

// maxUpdateAttempts bounds the retries of a change that lost a race with another
// writer. Each retry re-reads the user and calls the edit again, so no change is lost.
const maxUpdateAttempts = 8

// CreateUserFrom implements iamd.UserService: the privilege first, then the request.
func (s *Service) CreateUserFrom(ctx context.Context, instanceID string, build iamd.UserBuild) (*iamd.User, error) {
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeUserWrite); err != nil {
		return nil, err
	}
	in, opts, err := build()
	if err != nil {
		return nil, err
	}
	in.InstanceID = instanceID
	return s.CreateUser(ctx, in, opts)
}

// CreateUser creates a user with its grants, group memberships, password and MFA, in
// one transaction. The caller needs USER_WRITE, and GROUP_WRITE to put it in groups;
// granting roles or privileges, or joining groups that carry roles, needs what granting
// them needs (see authorizeGrants).
func (s *Service) CreateUser(ctx context.Context, in *iamd.User, opts iamd.CreateUserOptions) (*iamd.User, error) {
	p, err := authorize(ctx, in.InstanceID, iamd.PrivilegeUserWrite)
	if err != nil {
		return nil, err
	}
	// The instance is read only when something needs it first: a password (its policy),
	// or roles, privileges or groups (their checks would otherwise name them missing
	// rather than the instance). A plain create, the common one, leaves it to the insert
	// itself: the user row's foreign key refuses an instance that is not there, answered
	// below as requireInstance answers.
	var inst *iamd.Instance
	if in.InstanceID == "" || opts.Password != "" || len(in.Roles) > 0 || len(in.Privileges) > 0 || len(opts.GroupIDs) > 0 {
		if inst, err = s.requireInstance(ctx, in.InstanceID); err != nil {
			return nil, err
		}
	}
	now := s.clock()
	u := newUser(in, in.InstanceID, p, now)
	u.Roles, u.Privileges = dedupe(in.Roles), dedupe(in.Privileges)
	slices.Sort(u.Roles)
	slices.Sort(u.Privileges)
	groups := dedupe(opts.GroupIDs)
	if err := s.authorizeGrants(ctx, p, in.InstanceID, grants{roles: u.Roles, privileges: u.Privileges, groups: groups}); err != nil {
		return nil, err
	}
	if err := s.checkUser(ctx, &u, nil, now); err != nil {
		return nil, err
	}
	w := iamd.UserWrite{User: &u, JoinGroups: groups}
	if opts.Password != "" {
		if err := s.setPassword(ctx, inst, &u, nil, &iamd.NewPassword{Clear: opts.Password, Temporary: in.TemporaryPassword}, &w, now); err != nil {
			return nil, err
		}
	}
	if opts.MFA != nil {
		if err := s.setMFA(nil, &u, opts.MFA, &w, now); err != nil {
			return nil, err
		}
	}
	if opts.Locked {
		until := iamd.LockedIndefinitely
		u.LockedUntil = &until
	}
	w.Event = s.event(ctx, p, u.InstanceID, iamd.ActionUserCreate, "user", u.ID)
	if err := s.store.CreateUser(ctx, w); err != nil {
		var e *iamd.Error
		if inst == nil && errors.As(err, &e) && e.Code == iamd.EINVALID && e.Field == iamd.FieldInstanceID {
			return nil, notFound("instance", in.InstanceID)
		}
		return nil, err
	}
	if len(groups) == 0 {
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

// Me returns the caller's own user: what anyone signed in may read of themselves.
func (s *Service) Me(ctx context.Context) (*iamd.User, error) {
	p := iamd.PrincipalFromContext(ctx)
	if p == nil || p.UserID == "" {
		return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	}
	return s.store.GetUser(ctx, p.InstanceID, p.UserID)
}

// ActorLogins returns the login names of the users of the instance among ids: the
// actors audit stamps record (see iamd.ActorLogins). A caller holding USER_READ may
// resolve any ids, as it may read any user. Any other caller signed in to the instance
// (no privileges, a minimal key, a password-change-only session) resolves only the
// stamps of its own record, which Me shows it, and itself; the other ids are left out,
// so that no caller turns user ids it was never shown into login names.
func (s *Service) ActorLogins(ctx context.Context, instanceID string, ids []string) (map[string]string, error) {
	p := iamd.PrincipalFromContext(ctx)
	switch {
	case p == nil:
		return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	case !p.Sees(instanceID):
		return nil, iamd.Errorf(iamd.ENOTFOUND, "No instance with id %q.", instanceID)
	}
	ids = dedupe(ids)
	if p.PasswordChangeOnly || !p.Can(instanceID, iamd.PrivilegeUserRead) {
		own, err := s.ownStamps(ctx, p, instanceID)
		if err != nil {
			return nil, err
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return !slices.Contains(own, id) })
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == "" })
	if len(ids) == 0 {
		return map[string]string{}, nil
	}
	// One read for them all: ECE shows the actors of every user it lists.
	return s.store.UserLogins(ctx, instanceID, ids)
}

// ownStamps returns the actors a caller without USER_READ may resolve in instanceID:
// itself and the actors of its own record's stamps. A caller that is no user of the
// instance, or whose user is gone, may resolve none.
func (s *Service) ownStamps(ctx context.Context, p *iamd.Principal, instanceID string) ([]string, error) {
	if p.UserID == "" || p.InstanceID != instanceID {
		return nil, nil
	}
	me, err := s.store.GetUserRow(ctx, instanceID, p.UserID)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return []string{me.ID, me.CreatedBy, me.UpdatedBy}, nil
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
	// A listing or a search may be a moment behind; a look-up of one user is how a
	// client reads what it just wrote (SCIM's userName eq before and after a create).
	f.MayLag = f.LoginName == "" && !iamd.LooksUpOne(f.Where)
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

// UpdateUser applies a fixed partial change (see ChangeUser).
func (s *Service) UpdateUser(ctx context.Context, instanceID, id string, upd iamd.UserUpdate) (*iamd.User, error) {
	return s.ChangeUser(ctx, instanceID, iamd.UserRef{ID: id}, func(*iamd.User) (*iamd.UserChange, error) {
		return &iamd.UserChange{UserUpdate: upd}, nil
	})
}

// ChangeUser makes one change to a user: profile, state, login name, grants, groups,
// password and MFA together, in one transaction with one audit event. It authorizes
// before it looks at the change: the caller must hold USER_WRITE and cover the user
// (iamd.Principal.Covers), so a caller refused learns nothing from what it sent. Then
// the change itself is authorized (grants, groups), then validated, then written. When
// another writer got there first the user is read again and edit called again, unless
// ref names the version the change was made from: that is a conflict (ECONFLICT
// naming FieldVersion).
func (s *Service) ChangeUser(ctx context.Context, instanceID string, ref iamd.UserRef, edit iamd.UserEdit) (*iamd.User, error) {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeUserWrite)
	if err != nil {
		return nil, err
	}
	return s.changeUser(ctx, p, instanceID, ref, edit, false)
}

// ChangeOwnUser lets any signed-in user change its own names, email and password (for
// APIs whose self-service takes no current password, such as ECE's PATCH /user: the
// caller has just proved who it is), and nothing else.
func (s *Service) ChangeOwnUser(ctx context.Context, edit iamd.UserEdit) (*iamd.User, error) {
	p := iamd.PrincipalFromContext(ctx)
	switch {
	case p == nil || p.UserID == "":
		return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	case p.PasswordChangeOnly:
		return nil, iamd.Errorf(iamd.EFORBIDDEN, "The password must be changed before anything else.")
	}
	return s.changeUser(ctx, p, p.InstanceID, iamd.UserRef{ID: p.UserID}, edit, true)
}

func (s *Service) changeUser(ctx context.Context, p *iamd.Principal, instanceID string, ref iamd.UserRef, edit iamd.UserEdit, self bool) (*iamd.User, error) {
	for attempt := 1; ; attempt++ {
		cur, err := s.findUser(ctx, instanceID, ref)
		if err != nil {
			return nil, err
		}
		if !self {
			if err := s.authorizeOn(ctx, p, cur); err != nil {
				return nil, err
			}
		}
		if err := checkVersion(ref, cur); err != nil {
			return nil, err
		}
		change, err := edit(cur)
		if err != nil {
			return nil, err
		}
		if change != nil {
			if err := checkVersion(iamd.UserRef{Version: change.Version}, cur); err != nil {
				return nil, err
			}
		}
		w, next, err := s.prepareChange(ctx, p, cur, change, self)
		if err != nil {
			return nil, err
		}
		if w == nil {
			return cur, nil
		}
		err = s.store.UpdateUser(ctx, *w)
		if isVersionConflict(err) && ref.Version == 0 && change.Version == 0 && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(w.JoinGroups) > 0 || len(w.LeaveGroups) > 0 {
			return s.store.GetUser(ctx, instanceID, cur.ID)
		}
		return next, nil
	}
}

// findUser reads the user ref names (its version is checkVersion's, after authorization).
func (s *Service) findUser(ctx context.Context, instanceID string, ref iamd.UserRef) (*iamd.User, error) {
	var u *iamd.User
	var err error
	switch {
	case ref.ID != "":
		u, err = s.store.GetUser(ctx, instanceID, ref.ID)
	case ref.LoginName != "":
		u, err = s.store.GetUserByLogin(ctx, instanceID, ref.LoginName)
	default:
		return nil, iamd.Invalid(iamd.FieldID, "name the user by id or login name")
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// checkVersion refuses a change made from another version than the user's.
func checkVersion(ref iamd.UserRef, u *iamd.User) error {
	if ref.Version != 0 && u.Version != ref.Version {
		return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldVersion,
			Message: "The user has changed since the version this change was made from."}
	}
	return nil
}

func isVersionConflict(err error) bool {
	return iamd.ErrorCode(err) == iamd.ECONFLICT && iamd.ErrorField(err) == iamd.FieldVersion
}

// authorizeOn refuses a caller that does not cover the user u (see iamd.Principal.Covers).
func (s *Service) authorizeOn(ctx context.Context, p *iamd.Principal, u *iamd.User) error {
	privileges, err := s.store.EffectivePrivileges(ctx, u.InstanceID, u.ID)
	if err != nil {
		return err
	}
	if !p.Covers(iamd.Rights{PlatformAdmin: u.PlatformAdmin, Privileges: privileges}) {
		return iamd.ErrNotCovered()
	}
	return nil
}

// prepareChange authorizes, validates and stamps change to cur, and returns the write
// that makes it and the user it stores, or nil when it changes nothing.
func (s *Service) prepareChange(ctx context.Context, p *iamd.Principal, cur *iamd.User, change *iamd.UserChange, self bool) (*iamd.UserWrite, *iamd.User, error) {
	if change == nil {
		return nil, nil, nil
	}
	now := s.clock()
	next := *cur
	upd := change.UserUpdate
	if upd.Roles != nil {
		roles := dedupe(*upd.Roles)
		slices.Sort(roles) // the order the store answers them in
		upd.Roles = &roles
	}
	if upd.Privileges != nil {
		privileges := dedupe(*upd.Privileges)
		slices.Sort(privileges)
		upd.Privileges = &privileges
	}
	upd.Apply(&next)
	if change.LoginName != nil {
		next.LoginName = *change.LoginName
	}
	join := without(dedupe(change.JoinGroups), groupIDs(cur.Groups))
	leave := within(dedupe(change.LeaveGroups), groupIDs(cur.Groups))

	// Authorization of what the change does, before anything of it is validated.
	if self {
		if !selfServiceOnly(cur, &next, change) {
			return nil, nil, &iamd.Error{Code: iamd.EFORBIDDEN, Rule: iamd.RuleSelfService, Field: beyondSelfService(cur, &next, change),
				Message: "A user can change only its own names, email and password."}
		}
	} else {
		g := grants{roles: without(next.Roles, cur.Roles), privileges: without(next.Privileges, cur.Privileges), groups: join, leave: leave,
			revoking: !slices.Equal(next.Roles, cur.Roles) || !slices.Equal(next.Privileges, cur.Privileges)}
		if err := s.authorizeGrants(ctx, p, cur.InstanceID, g); err != nil {
			return nil, nil, err
		}
	}
	if err := protected(p, cur, &next, change); err != nil {
		return nil, nil, err
	}

	if err := s.checkUser(ctx, &next, cur, now); err != nil {
		return nil, nil, err
	}
	w := &iamd.UserWrite{User: &next, ExpectedVersion: cur.Version, JoinGroups: join, LeaveGroups: leave}
	if change.Password != nil {
		inst, err := s.requireInstance(ctx, cur.InstanceID)
		if err != nil {
			return nil, nil, err
		}
		if err := s.setPassword(ctx, inst, &next, cur, change.Password, w, now); err != nil {
			return nil, nil, err
		}
	}
	if change.MFA != nil {
		if err := s.setMFA(cur, &next, change.MFA, w, now); err != nil {
			return nil, nil, err
		}
	}
	if reflect.DeepEqual(&next, cur) && len(join) == 0 && len(leave) == 0 && w.TOTP == nil && !w.DropTOTP {
		return nil, nil, nil
	}
	next.Version = cur.Version + 1
	next.UpdatedAt, next.UpdatedBy, next.UpdatedByName = now, p.UserID, p.Name
	w.User = copyWithout(next, cur)
	w.Event = s.event(ctx, p, cur.InstanceID, userAction(change), "user", cur.ID)
	w.Event.Time = now
	w.Event.Changes = iamd.ChangedFields(cur, &next)
	if len(join)+len(leave) > 0 {
		w.Event.Changes = append(w.Event.Changes, iamd.FieldGroupIDs)
	}
	return w, &next, nil
}

// userAction is the audit action of a change: what it did, when it did one thing the
// log has a name for; else user.update.
func userAction(c *iamd.UserChange) string {
	onlyUpdate := c.LoginName == nil && len(c.JoinGroups)+len(c.LeaveGroups) == 0
	unlock := iamd.UserUpdate{Locked: c.Locked}
	switch {
	case onlyUpdate && c.MFA == nil && c.UserUpdate == (iamd.UserUpdate{}) && c.Password != nil:
		return iamd.ActionPasswordSet
	case onlyUpdate && c.Password == nil && c.UserUpdate == (iamd.UserUpdate{}) && c.MFA != nil && c.MFA.Enabled:
		return iamd.ActionMFAConfirm
	case onlyUpdate && c.Password == nil && c.UserUpdate == (iamd.UserUpdate{}) && c.MFA != nil:
		return iamd.ActionMFADisable
	case onlyUpdate && c.Password == nil && c.MFA == nil && c.Locked != nil && !*c.Locked && c.UserUpdate == unlock:
		return iamd.ActionUserUnlock
	}
	return iamd.ActionUserUpdate
}

// copyWithout returns next for the store, with its grants set to nil where they are
// unchanged from cur, so that the store leaves them be.
func copyWithout(next iamd.User, cur *iamd.User) *iamd.User {
	out := next
	if slices.Equal(next.Roles, cur.Roles) {
		out.Roles = nil
	}
	if slices.Equal(next.Privileges, cur.Privileges) {
		out.Privileges = nil
	}
	return &out
}

// selfServiceOnly reports whether a change a user makes to itself touches nothing but
// its names, email and password.
func selfServiceOnly(cur, next *iamd.User, change *iamd.UserChange) bool {
	if change.LoginName != nil && *change.LoginName != cur.LoginName || change.MFA != nil ||
		len(change.JoinGroups) > 0 || len(change.LeaveGroups) > 0 || (change.Password != nil && change.Password.Hash != "") {
		return false
	}
	allowed := *cur
	allowed.DisplayName, allowed.GivenName, allowed.FamilyName = next.DisplayName, next.GivenName, next.FamilyName
	// A changed email is no longer verified; nobody verifies their own.
	allowed.Email, allowed.EmailVerified = next.Email, cur.EmailVerified && next.EmailVerified
	return reflect.DeepEqual(&allowed, next)
}

// beyondSelfService names the field of a change a user makes to itself that
// selfServiceOnly refuses, or "" when it is none of these.
func beyondSelfService(cur, next *iamd.User, change *iamd.UserChange) string {
	switch {
	case next.LoginName != cur.LoginName:
		return iamd.FieldLoginName
	case !slices.Equal(next.Roles, cur.Roles):
		return iamd.FieldRoles
	case !slices.Equal(next.Privileges, cur.Privileges):
		return iamd.FieldPrivileges
	case next.Status != cur.Status:
		return iamd.FieldStatus
	case !reflect.DeepEqual(next.ElevatedUntil, cur.ElevatedUntil):
		return iamd.FieldElevatedUntil
	case len(change.JoinGroups) > 0 || len(change.LeaveGroups) > 0:
		return iamd.FieldGroupIDs
	case change.Password != nil && change.Password.Hash != "":
		return iamd.FieldPasswordHash
	case change.MFA != nil:
		return iamd.FieldMFASecret
	}
	return ""
}

// protected refuses changes to users whose record is not the API's to change: built-in
// users (the platform administrator among them, so the last one can never be disabled,
// renamed, demoted or deleted) and users of another realm. Their credentials may still
// be reset by a caller that covers them: MFA and a lock, and a built-in user's password
// (another realm's user's password is its realm's). The operator at the database (the
// iamd CLI) is the break-glass exception.
func protected(p *iamd.Principal, cur, next *iamd.User, change *iamd.UserChange) error {
	if p.Operator {
		return nil
	}
	if !cur.Builtin && cur.Realm == "" {
		return nil
	}
	if cur.Realm != "" && change.Password != nil { // its password is its realm's
		return protectedRecord(cur)
	}
	record := func(u *iamd.User) iamd.User {
		r := *u
		r.PasswordHash, r.TemporaryPassword, r.PasswordChangedAt, r.CredentialsExpired = "", false, nil, false
		r.MFAEnabled, r.PasswordFailedCount = false, 0
		if r.LockedUntil != nil && !r.LockedUntil.Equal(iamd.LockedIndefinitely) {
			r.LockedUntil = nil // a lock after failed sign-ins may be lifted
		}
		return r
	}
	before, after := record(cur), record(next)
	if cur.LockedUntil != nil && next.LockedUntil == nil {
		before.LockedUntil = nil // lifting any lock is allowed
	}
	if !reflect.DeepEqual(before, after) || len(change.JoinGroups) > 0 || len(change.LeaveGroups) > 0 {
		return protectedRecord(cur)
	}
	return nil
}

// protectedRecord refuses a change to the record of a built-in user or of a user of
// another realm (nil for any other user).
func protectedRecord(u *iamd.User) error {
	switch {
	case u.Realm != "":
		return iamd.Refused(iamd.RuleExternalRealm, "", "The user %s belongs to the realm %s and is managed there.", u.LoginName, u.Realm)
	case u.Builtin:
		return iamd.Refused(iamd.RuleBuiltin, "", "The built-in user %s cannot be modified.", u.LoginName)
	}
	return nil
}

// checkUser validates a user as it is to be stored (cur is nil for a new one).
func (s *Service) checkUser(ctx context.Context, u, cur *iamd.User, now time.Time) error {
	if u.Status == "" {
		return iamd.Invalid(iamd.FieldStatus, "status cannot be cleared")
	}
	if err := u.Validate(); err != nil {
		return err
	}
	if u.ElevatedUntil != nil && !u.ElevatedUntil.After(now) && (cur == nil || !timesEqual(u.ElevatedUntil, cur.ElevatedUntil)) {
		return iamd.Invalid(iamd.FieldElevatedUntil, "elevated permissions must expire in the future")
	}
	if cur != nil && slices.Equal(u.Roles, cur.Roles) || len(u.Roles) < 2 {
		return nil
	}
	defs, err := s.roleDefinitions(ctx, u.InstanceID)
	if err != nil {
		return err
	}
	if a, b, found := iamd.ExclusionBetween(u.Roles, defs); found {
		return iamd.Refused(iamd.RuleExclusiveRoles, iamd.FieldRoles, "%s cannot be held together with %s", a, b)
	}
	return nil
}

func timesEqual(a, b *time.Time) bool {
	return a == nil && b == nil || a != nil && b != nil && a.Equal(*b)
}

// setPassword hashes a new password for next (cur is nil for a new user) after the
// instance's policy, onto w.
func (s *Service) setPassword(ctx context.Context, inst *iamd.Instance, next, cur *iamd.User, pw *iamd.NewPassword, w *iamd.UserWrite, now time.Time) error {
	if s.creds == nil {
		return iamd.Errorf(iamd.EINTERNAL, "directory: passwords cannot be set without the accounts core")
	}
	if next.SSO {
		return iamd.Invalid(iamd.FieldPassword, "users who sign in through SSO have no password here")
	}
	hash := pw.Hash
	if hash != "" {
		if err := s.creds.CheckImportedHash(hash); err != nil {
			return iamd.Invalid(iamd.FieldPasswordHash, "%v", err)
		}
	} else {
		var err error
		if hash, err = s.creds.NewPasswordHash(ctx, inst.Policy, next, pw.Clear); err != nil {
			return err
		}
	}
	if cur != nil {
		w.RetiredHash, w.KeepHistory = cur.PasswordHash, inst.Policy.RetiredHashesKept()
	}
	next.PasswordHash, next.TemporaryPassword, next.PasswordChangedAt, next.CredentialsExpired = hash, pw.Temporary, &now, false
	return nil
}

// setMFA turns MFA on with a secret the user has, or off, onto w (cur is nil for a new
// user).
func (s *Service) setMFA(cur, next *iamd.User, mfa *iamd.MFASetting, w *iamd.UserWrite, now time.Time) error {
	if !mfa.Enabled {
		if cur != nil && cur.MFAEnabled {
			next.MFAEnabled, w.DropTOTP = false, true
		}
		return nil
	}
	if mfa.Secret == "" {
		return iamd.Invalid(iamd.FieldMFASecret, "turning MFA on here needs the secret the user's authenticator holds")
	}
	if s.creds == nil {
		return iamd.Errorf(iamd.EINTERNAL, "directory: MFA cannot be set without the accounts core")
	}
	raw, err := iamd.DecodeTOTPSecret(mfa.Secret)
	if err != nil {
		return err
	}
	sealed, err := s.creds.SealTOTPSecret(next.ID, raw)
	if err != nil {
		return err
	}
	w.TOTP = &iamd.TOTP{UserID: next.ID, SecretEncrypted: sealed, Confirmed: true, CreatedAt: now}
	next.MFAEnabled = true
	return nil
}

// DeleteUser removes a user and its memberships and credentials (USER_DELETE, covering
// the user). Built-in users and users of another realm stay, but for the operator.
func (s *Service) DeleteUser(ctx context.Context, instanceID string, ref iamd.UserRef) error {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeUserDelete)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		u, err := s.findUser(ctx, instanceID, ref)
		if err != nil {
			return err
		}
		if err := s.authorizeOn(ctx, p, u); err != nil {
			return err
		}
		if err := checkVersion(ref, u); err != nil {
			return err
		}
		switch {
		case p.Operator:
		case u.Builtin:
			return iamd.Refused(iamd.RuleBuiltin, "", "The built-in user %s cannot be deleted.", u.LoginName)
		case u.Realm != "":
			return protectedRecord(u)
		}
		// Deleted at the version authorized: a user whose rights changed meanwhile is
		// read and authorized again.
		err = s.store.DeleteUser(ctx, instanceID, u.ID, u.Version, s.event(ctx, p, instanceID, iamd.ActionUserDelete, "user", u.ID))
		if isVersionConflict(err) && ref.Version == 0 && attempt < maxUpdateAttempts {
			continue
		}
		return err
	}
}

// dedupe returns ids without repeats, in first-seen order.
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

// without returns the elements of a that are not in b; within, those that are.
func without(a, b []string) []string {
	return slices.DeleteFunc(slices.Clone(a), func(x string) bool { return slices.Contains(b, x) })
}

func within(a, b []string) []string {
	return slices.DeleteFunc(slices.Clone(a), func(x string) bool { return !slices.Contains(b, x) })
}

func groupIDs(refs []iamd.GroupRef) []string {
	out := make([]string, len(refs))
	for i, g := range refs {
		out[i] = g.ID
	}
	return out
}

// newUser is a user as the core creates it from what a caller gave: the fields a caller
// may choose, with id, stamps and version set. Grants, credentials and the rest of the
// account state are the core's.
func newUser(in *iamd.User, instanceID string, p *iamd.Principal, now time.Time) iamd.User {
	u := iamd.User{
		InstanceID:         instanceID,
		LoginName:          in.LoginName,
		Realm:              in.Realm,
		DisplayName:        in.DisplayName,
		GivenName:          in.GivenName,
		FamilyName:         in.FamilyName,
		Email:              in.Email,
		EmailVerified:      in.EmailVerified,
		PhoneCountryCode:   in.PhoneCountryCode,
		PhoneNumber:        in.PhoneNumber,
		PhoneExtension:     in.PhoneExtension,
		PhoneVerified:      in.PhoneVerified,
		EmployeeNumber:     in.EmployeeNumber,
		Department:         in.Department,
		BusinessUnit:       in.BusinessUnit,
		Manager:            in.Manager,
		Organization:       in.Organization,
		Description:        in.Description,
		TimeZone:           in.TimeZone,
		Locale:             in.Locale,
		ExternalID:         in.ExternalID,
		Extra:              in.Extra,
		Status:             in.Status,
		ConsoleDenied:      in.ConsoleDenied,
		APIDenied:          in.APIDenied,
		SSO:                in.SSO,
		TemporaryPassword:  in.TemporaryPassword,
		Expired:            in.Expired,
		CredentialsExpired: in.CredentialsExpired,
		ElevatedUntil:      in.ElevatedUntil,

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
