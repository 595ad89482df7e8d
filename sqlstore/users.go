package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"iamd"
)

// userColumns lists every column of users in the order userArgs and scanUser use.
const userColumns = `id, instance_id, login_name, login_key, realm, display_name, given_name, family_name,
	email, email_verified, phone_country_code, phone_number, phone_extension, phone_verified,
	employee_number, department, business_unit, manager, organization, description, time_zone, locale,
	external_id, extra, status, console_denied, api_denied, builtin, sso, platform_admin,
	password_hash, temporary_password, password_changed_at, password_failed_count, locked_until,
	expired, credentials_expired, mfa_enabled, elevated_until, first_login_at, last_login_at,
	last_failed_login_at, created_at, created_by, created_by_name, updated_at, updated_by,
	updated_by_name, version`

// userColumnCount is how many columns userColumns lists.
var userColumnCount = strings.Count(userColumns, ",") + 1

// userMutable lists the columns an update replaces: all but the identity and creation stamps.
var userMutable = strings.Fields(`login_name login_key realm display_name given_name family_name
	email email_verified phone_country_code phone_number phone_extension phone_verified
	employee_number department business_unit manager organization description time_zone locale
	external_id extra status console_denied api_denied builtin sso platform_admin
	password_hash temporary_password password_changed_at password_failed_count locked_until
	expired credentials_expired mfa_enabled elevated_until first_login_at last_login_at
	last_failed_login_at updated_at updated_by updated_by_name version`)

// mutableArgs returns the values of userMutable, in order.
func mutableArgs(u *iamd.User) []any {
	return []any{u.LoginName, iamd.LoginKey(u.LoginName), u.Realm, u.DisplayName, u.GivenName, u.FamilyName,
		u.Email, u.EmailVerified, u.PhoneCountryCode, u.PhoneNumber, u.PhoneExtension, u.PhoneVerified,
		u.EmployeeNumber, u.Department, u.BusinessUnit, u.Manager, u.Organization, u.Description, u.TimeZone, u.Locale,
		u.ExternalID, u.Extra, string(u.Status), u.ConsoleDenied, u.APIDenied, u.Builtin, u.SSO, u.PlatformAdmin,
		u.PasswordHash, u.TemporaryPassword, nullMicros(u.PasswordChangedAt), u.PasswordFailedCount, nullMicros(u.LockedUntil),
		u.Expired, u.CredentialsExpired, u.MFAEnabled, nullMicros(u.ElevatedUntil), nullMicros(u.FirstLoginAt), nullMicros(u.LastLoginAt),
		nullMicros(u.LastFailedLoginAt), micros(u.UpdatedAt), u.UpdatedBy, u.UpdatedByName, u.Version}
}

func userArgs(u *iamd.User) []any {
	args := []any{u.ID, u.InstanceID}
	m := mutableArgs(u)
	// created_* sit between last_failed_login_at and updated_at in userColumns.
	split := len(m) - 4
	args = append(args, m[:split]...)
	args = append(args, micros(u.CreatedAt), u.CreatedBy, u.CreatedByName)
	return append(args, m[split:]...)
}

type rowScanner interface{ Scan(dest ...any) error }

func scanUser(r rowScanner) (*iamd.User, error) {
	var u iamd.User
	var loginKey, status string
	var pwChanged, locked, elevated, firstLogin, lastLogin, lastFailed sql.NullInt64
	var created, updated int64
	err := r.Scan(&u.ID, &u.InstanceID, &u.LoginName, &loginKey, &u.Realm, &u.DisplayName, &u.GivenName, &u.FamilyName,
		&u.Email, &u.EmailVerified, &u.PhoneCountryCode, &u.PhoneNumber, &u.PhoneExtension, &u.PhoneVerified,
		&u.EmployeeNumber, &u.Department, &u.BusinessUnit, &u.Manager, &u.Organization, &u.Description, &u.TimeZone, &u.Locale,
		&u.ExternalID, &u.Extra, &status, &u.ConsoleDenied, &u.APIDenied, &u.Builtin, &u.SSO, &u.PlatformAdmin,
		&u.PasswordHash, &u.TemporaryPassword, &pwChanged, &u.PasswordFailedCount, &locked,
		&u.Expired, &u.CredentialsExpired, &u.MFAEnabled, &elevated, &firstLogin, &lastLogin,
		&lastFailed, &created, &u.CreatedBy, &u.CreatedByName, &updated, &u.UpdatedBy,
		&u.UpdatedByName, &u.Version)
	if err != nil {
		return nil, err
	}
	u.Status = iamd.UserStatus(status)
	u.PasswordChangedAt, u.LockedUntil, u.ElevatedUntil = timePtr(pwChanged), timePtr(locked), timePtr(elevated)
	u.FirstLoginAt, u.LastLoginAt, u.LastFailedLoginAt = timePtr(firstLogin), timePtr(lastLogin), timePtr(lastFailed)
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, nil
}

func loginTaken(u *iamd.User) error {
	return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldLoginName,
		Message: fmt.Sprintf("A user with %s %q already exists in instance %q.", iamd.FieldLoginName, u.LoginName, u.InstanceID)}
}

func userNotFound(id string) error {
	return iamd.Errorf(iamd.ENOTFOUND, "No user with id %q.", id)
}

// CreateUser inserts a user with its grants, memberships and MFA enrolment.
func (db *DB) CreateUser(ctx context.Context, w iamd.UserWrite) error {
	u := w.User
	return db.inTx(ctx, func(tx *txn) error {
		if len(u.Roles)+len(u.Privileges)+len(w.JoinGroups) > 0 {
			if err := db.lockRights(ctx, tx, u.InstanceID, false); err != nil {
				return err
			}
		}
		if err := db.requireRoles(ctx, tx, u.InstanceID, u.Roles); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO users (`+userColumns+`) VALUES (`+placeholders(userColumnCount)+`)`, userArgs(u)...)
		switch v, _ := db.dialect.Classify(err); {
		case v == UniqueViolation:
			return loginTaken(u)
		case v == ForeignKeyViolation:
			return iamd.Invalid(iamd.FieldInstanceID, "no instance with id %q", u.InstanceID)
		case err != nil:
			return internal("insert user", err)
		}
		if err := db.countUsers(ctx, tx, u.InstanceID, 1); err != nil {
			return err
		}
		for _, role := range u.Roles {
			if _, err := db.exec(ctx, tx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?) ON CONFLICT DO NOTHING`, u.ID, role); err != nil {
				return internal("insert user role", err)
			}
		}
		if err := db.grant(ctx, tx, u.ID, u.Privileges); err != nil {
			return err
		}
		if err := db.changeUserGroups(ctx, tx, w); err != nil {
			return err
		}
		if w.TOTP != nil {
			if err := db.replaceTOTP(ctx, tx, w.TOTP); err != nil {
				return err
			}
		}
		return db.insertEvent(ctx, tx, w.Event)
	})
}

// changeUserGroups makes the membership changes of w, each group touched a new version.
func (db *DB) changeUserGroups(ctx context.Context, tx *txn, w iamd.UserWrite) error {
	u := w.User
	if err := db.requireGroups(ctx, tx, u.InstanceID, w.JoinGroups); err != nil {
		return err
	}
	for _, gid := range w.JoinGroups {
		res, err := db.exec(ctx, tx, `INSERT INTO group_members (instance_id, group_id, user_id) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, u.InstanceID, gid, u.ID)
		if err != nil {
			return internal("insert membership", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if err := db.touchGroup(ctx, tx, u.InstanceID, gid, w.Event); err != nil {
				return err
			}
		}
	}
	for _, gid := range w.LeaveGroups {
		res, err := db.exec(ctx, tx, `DELETE FROM group_members WHERE instance_id = ? AND group_id = ? AND user_id = ?`,
			u.InstanceID, gid, u.ID)
		if err != nil {
			return internal("delete membership", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			if err := db.touchGroup(ctx, tx, u.InstanceID, gid, w.Event); err != nil {
				return err
			}
		}
	}
	return nil
}

// requireGroups answers EINVALID naming the first of ids that is not a group of the instance.
func (db *DB) requireGroups(ctx context.Context, q querier, instanceID string, ids []string) error {
	missing, err := db.firstMissing(ctx, q, "groups", instanceID, ids)
	if err != nil || missing == "" {
		return err
	}
	return iamd.Invalid(iamd.FieldGroupIDs, "no group with id %q in instance %q", missing, instanceID)
}

// firstMissing returns the first of ids with no row in table (groups or users) of the
// instance, or "" when all are there.
func (db *DB) firstMissing(ctx context.Context, q querier, table, instanceID string, ids []string) (string, error) {
	if len(ids) == 0 {
		return "", nil
	}
	args := []any{instanceID}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := db.query(ctx, q, `SELECT id FROM `+table+` WHERE instance_id = ? AND id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return "", internal("check "+table, err)
	}
	defer rows.Close()
	found := make(map[string]bool, len(ids))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", internal("scan id", err)
		}
		found[id] = true
	}
	if err := rows.Err(); err != nil {
		return "", internal("check "+table, err)
	}
	for _, id := range ids {
		if !found[id] {
			return id, nil
		}
	}
	return "", nil
}

// GetUser returns a user with its groups, roles and privileges.
func (db *DB) GetUser(ctx context.Context, instanceID, id string) (*iamd.User, error) {
	view := db.begin(ctx)
	if u := db.cache.user(view, instanceID, id); u != nil {
		return u, nil
	}
	return db.getUser(ctx, view, `instance_id = ? AND id = ?`, instanceID, id, id)
}

// GetUserRow returns the user's row alone.
func (db *DB) GetUserRow(ctx context.Context, instanceID, id string) (*iamd.User, error) {
	u, err := scanUser(db.queryRow(ctx, db.read, `SELECT `+userColumns+` FROM users WHERE instance_id = ? AND id = ?`, instanceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userNotFound(id)
	} else if err != nil {
		return nil, internal("get user", err)
	}
	return u, nil
}

// GetUserByLogin finds a user by login name, ignoring case.
func (db *DB) GetUserByLogin(ctx context.Context, instanceID, loginName string) (*iamd.User, error) {
	return db.userByLogin(ctx, db.begin(ctx), instanceID, loginName)
}

// userByLogin is GetUserByLogin for a read that asked view.
func (db *DB) userByLogin(ctx context.Context, view readView, instanceID, loginName string) (*iamd.User, error) {
	key := iamd.LoginKey(loginName)
	if u := db.cache.userByLogin(view, instanceID, key); u != nil {
		return u, nil
	}
	return db.getUser(ctx, view, `instance_id = ? AND login_key = ?`, instanceID, key, loginName)
}

// getUser reads one user, as GetUser answers it, and remembers it for view.
func (db *DB) getUser(ctx context.Context, view readView, where, instanceID, key, shown string) (*iamd.User, error) {
	u, err := scanUser(db.queryRow(ctx, db.read, `SELECT `+userColumns+` FROM users WHERE `+where, instanceID, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userNotFound(shown)
	} else if err != nil {
		return nil, internal("get user", err)
	}
	if err := db.fillUser(ctx, u); err != nil {
		return nil, err
	}
	db.cache.putUser(view, u)
	return u, nil
}

// fillUser loads a user's groups (direct and inherited, in one query), direct roles and
// direct privileges.
func (db *DB) fillUser(ctx context.Context, u *iamd.User) error {
	one := []iamd.User{*u}
	if err := db.fillUsers(ctx, db.read, u.InstanceID, one); err != nil {
		return err
	}
	*u = one[0]
	return nil
}

// fillUsers loads what GetUser answers beyond the row for users of one instance: groups
// in one query, and roles, privileges and the history's length in another, whatever the
// number of users.
func (db *DB) fillUsers(ctx context.Context, q querier, instanceID string, users []iamd.User) error {
	if len(users) == 0 {
		return nil
	}
	if err := db.fillGroups(ctx, q, instanceID, users); err != nil {
		return err
	}
	at := make(map[string]int, len(users))
	ids := make([]any, len(users))
	for i := range users {
		users[i].Roles, users[i].Privileges, users[i].PasswordHistoryCount = []string{}, []string{}, 0
		at[users[i].ID], ids[i] = i, users[i].ID
	}
	in := placeholders(len(users))
	// One statement for the three: a user read is made on most requests, and each
	// statement costs more than the rows it returns.
	rows, err := db.query(ctx, q, `SELECT user_id, 'r', role FROM user_roles WHERE user_id IN (`+in+`)
		UNION ALL SELECT user_id, 'p', privilege FROM user_privileges WHERE user_id IN (`+in+`)
		UNION ALL SELECT user_id, 'h', CAST(count(*) AS TEXT) FROM password_history WHERE user_id IN (`+in+`) GROUP BY user_id`,
		slices.Concat(ids, ids, ids)...)
	if err != nil {
		return internal("user grants", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, kind, value string
		if err := rows.Scan(&id, &kind, &value); err != nil {
			return internal("user grants", err)
		}
		u := &users[at[id]]
		switch kind {
		case "r":
			u.Roles = append(u.Roles, value)
		case "p":
			u.Privileges = append(u.Privileges, value)
		case "h":
			if u.PasswordHistoryCount, err = strconv.Atoi(value); err != nil {
				return internal("password history", err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return internal("user grants", err)
	}
	for i := range users {
		slices.Sort(users[i].Roles)
		slices.Sort(users[i].Privileges)
	}
	return nil
}

// strings runs a one-column query; the result is never nil.
func (db *DB) strings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := db.query(ctx, q, query, args...)
	if err != nil {
		return nil, internal("query", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, internal("scan", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("query", err)
	}
	return out, nil
}

// GetUserRights returns the user's effective privileges and platform administration.
func (db *DB) GetUserRights(ctx context.Context, instanceID, id string) (iamd.Rights, error) {
	var r iamd.Rights
	err := db.queryRow(ctx, db.read, `SELECT platform_admin FROM users WHERE instance_id = ? AND id = ?`, instanceID, id).Scan(&r.PlatformAdmin)
	if errors.Is(err, sql.ErrNoRows) {
		return r, userNotFound(id)
	} else if err != nil {
		return r, internal("user rights", err)
	}
	r.Privileges, err = db.EffectivePrivileges(ctx, instanceID, id)
	return r, err
}

// versionConflict is the answer to a write made from a version no longer stored.
func versionConflict(kind, id string) error {
	return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldVersion,
		Message: fmt.Sprintf("The %s %q was changed by another request since the version this change was made from.", kind, id)}
}

// UpdateUser stores a change of a user made from w.ExpectedVersion, with its grants,
// memberships, retired password and MFA enrolment, in one transaction.
func (db *DB) UpdateUser(ctx context.Context, w iamd.UserWrite) error {
	u := w.User
	sets := make([]string, len(userMutable))
	for i, c := range userMutable {
		sets[i] = c + " = ?"
	}
	args := append(mutableArgs(u), u.InstanceID, u.ID, w.ExpectedVersion)
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.lockRights(ctx, tx, u.InstanceID, false); err != nil {
			return err
		}
		// A change of members locks the group's row, then its users' (UpdateGroup); a
		// user joining or leaving groups takes them in that order too, so that the two
		// never wait on each other in a cycle.
		if groups := append(slices.Clone(w.JoinGroups), w.LeaveGroups...); len(groups) > 0 {
			slices.Sort(groups)
			groupArgs := []any{u.InstanceID}
			for _, id := range groups {
				groupArgs = append(groupArgs, id)
			}
			if _, err := db.exec(ctx, tx, `UPDATE groups SET version = version WHERE instance_id = ? AND id IN (`+
				placeholders(len(groups))+`)`, groupArgs...); err != nil {
				return internal("lock groups", err)
			}
		}
		res, err := db.exec(ctx, tx, `UPDATE users SET `+strings.Join(sets, ", ")+
			` WHERE instance_id = ? AND id = ? AND version = ?`, args...)
		if v, _ := db.dialect.Classify(err); v == UniqueViolation {
			return loginTaken(u)
		} else if err != nil {
			return internal("update user", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return internal("update user", err)
		} else if n == 0 {
			if err := db.requireUsers(ctx, tx, u.InstanceID, []string{u.ID}); err != nil {
				return userNotFound(u.ID)
			}
			return versionConflict("user", u.ID)
		}
		if u.Roles != nil {
			if err := db.replaceUserRoles(ctx, tx, u.InstanceID, u.ID, u.Roles); err != nil {
				return err
			}
		}
		if u.Privileges != nil {
			if _, err := db.exec(ctx, tx, `DELETE FROM user_privileges WHERE user_id = ?`, u.ID); err != nil {
				return internal("replace privileges", err)
			}
			if err := db.grant(ctx, tx, u.ID, u.Privileges); err != nil {
				return err
			}
		}
		if err := db.changeUserGroups(ctx, tx, w); err != nil {
			return err
		}
		if w.RetiredHash != "" {
			if err := db.retirePassword(ctx, tx, u.ID, w.RetiredHash, u.UpdatedAt, w.KeepHistory); err != nil {
				return err
			}
		}
		switch {
		case w.TOTP != nil:
			if err := db.replaceTOTP(ctx, tx, w.TOTP); err != nil {
				return err
			}
		case w.DropTOTP:
			if err := db.dropTOTP(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		return db.insertEvent(ctx, tx, w.Event)
	})
}

// DeleteUser removes a user; memberships, grants and credentials go with it.
func (db *DB) DeleteUser(ctx context.Context, instanceID, id string, expectedVersion int64, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		res, err := db.exec(ctx, tx, `DELETE FROM users WHERE instance_id = ? AND id = ? AND (? = 0 OR version = ?)`,
			instanceID, id, expectedVersion, expectedVersion)
		if err != nil {
			return internal("delete user", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return internal("delete user", err)
		} else if n == 0 {
			if err := db.requireUsers(ctx, tx, instanceID, []string{id}); err != nil {
				return userNotFound(id)
			}
			return versionConflict("user", id)
		}
		if err := db.countUsers(ctx, tx, instanceID, -1); err != nil {
			return err
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// sortColumns maps a sort key to the indexed column that orders it.
var sortColumns = map[string]string{
	iamd.SortByCreatedAt: "created_at",
	iamd.SortByUpdatedAt: "updated_at",
	iamd.SortByLoginName: "login_key",
	iamd.SortByName:      "display_name",
}

// ListUsers returns one page of users and the number of matches. Each sort order has an
// index (instance_id, column, id), so a page is read from an index range.
func (db *DB) ListUsers(ctx context.Context, f iamd.UserFilter) (*iamd.UserPage, error) {
	where := []string{"u.instance_id = ?"}
	args := []any{f.InstanceID}
	if f.LoginName != "" {
		where = append(where, "u.login_key = ?")
		args = append(args, iamd.LoginKey(f.LoginName))
	}
	if f.Status != "" {
		where = append(where, "u.status = ?")
		args = append(args, string(f.Status))
	}
	if f.GroupID != "" {
		where = append(where, "EXISTS (SELECT 1 FROM group_members m WHERE m.instance_id = u.instance_id AND m.group_id = ? AND m.user_id = u.id)")
		args = append(args, f.GroupID)
	}
	if f.ExcludedGroupID != "" {
		where = append(where, "NOT EXISTS (SELECT 1 FROM group_members m WHERE m.instance_id = u.instance_id AND m.group_id = ? AND m.user_id = u.id)")
		args = append(args, f.ExcludedGroupID)
	}
	if f.Prefix != "" && (!f.NoTotal || len(f.Sort) != 1 || f.Sort[0] != (iamd.UserSort{Key: iamd.SortByLoginName})) {
		// Counted or in another order, a prefix search is the condition it stands for.
		any := iamd.AnyOf{iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchSw, Value: f.Prefix},
			iamd.Match{Field: iamd.FieldDisplayName, Op: iamd.MatchSw, Value: f.Prefix}}
		if strings.Contains(f.Prefix, "@") {
			any = append(any, iamd.Match{Field: iamd.FieldEmail, Op: iamd.MatchSw, Value: f.Prefix})
		}
		if f.Where != nil {
			f.Where = iamd.AllOf{f.Where, any}
		} else {
			f.Where = any
		}
		f.Prefix = ""
	}
	if f.Where != nil {
		if err := iamd.ValidateWhere(f.Where); err != nil {
			return nil, err
		}
		where = append(where, whereSQL(f.Where, &args, db.dialect.PrefixRanges))
	}
	cond := strings.Join(where, " AND ")

	sorts := f.Sort
	if len(sorts) == 0 {
		sorts = []iamd.UserSort{{Key: iamd.SortByCreatedAt}}
	}
	for _, s := range sorts {
		if _, ok := sortColumns[s.Key]; !ok {
			return nil, iamd.Invalid(iamd.FieldSort, "cannot sort by %q", s.Key)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = iamd.DefaultPageSize
	}

	page := &iamd.UserPage{Users: []iamd.User{}}
	if f.LoginName != "" && len(where) == 2 {
		if view := db.begin(ctx); view.ok {
			// The login name alone, with the memory to answer or to fill: the user
			// GetUserByLogin reads, remembered by its key. Without the memory (PostgreSQL, or
			// reads skipping it under writes), the one statement below reads less.
			u, err := db.userByLogin(ctx, view, f.InstanceID, f.LoginName)
			switch {
			case iamd.ErrorCode(err) == iamd.ENOTFOUND:
				return page, nil
			case err != nil:
				return nil, err
			}
			page.Total = 1
			if f.Offset == 0 {
				page.Users = append(page.Users, listedUser(u, f))
			}
			return page, nil
		}
	}
	if f.LoginName != "" {
		// Login names are unique in an instance: the one row, if any, is both the total
		// and the page, read in one statement — the look-up clients make most often.
		u, err := scanUser(db.queryRow(ctx, db.read, `SELECT `+prefixed("u.", userColumns)+` FROM users u WHERE `+cond, args...))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return page, nil
		case err != nil:
			return nil, internal("list users", err)
		}
		page.Total = 1
		if f.Offset == 0 {
			page.Users = append(page.Users, *u)
		}
		if err := db.fillListed(ctx, db.read, f, page.Users); err != nil {
			return nil, err
		}
		return page, nil
	}
	if f.Prefix != "" {
		return db.searchUsers(ctx, f, cond, args, limit)
	}
	countQuery := `SELECT count(*) FROM users u WHERE ` + cond
	whole := len(where) == 1
	if whole { // the whole instance (cond is its id alone): its kept count, and reorders for anchors
		countQuery = instanceCounts
	}
	// Anchors hold positions in the default order of the whole instance; a filter or
	// another order has positions of its own.
	anchorable := whole && len(sorts) == 1 && sorts[0].Key == iamd.SortByCreatedAt && !f.NoTotal
	view := db.begin(ctx)
	// The total and the page come from one snapshot, so the page sits where the total
	// says it does even while other requests write.
	err := db.inSnapshotOn(ctx, db.readFor(f.MayLag), func(tx *txn) error {
		var reorders int64
		offset, n, backwards := f.Offset, limit, false
		if !f.NoTotal {
			dest := []any{&page.Total}
			if whole {
				dest = append(dest, &reorders)
			}
			if err := db.queryRow(ctx, tx, countQuery, args...).Scan(dest...); err != nil {
				return internal("count users", err)
			}
			if f.Offset >= page.Total {
				return nil
			}
			// An offset costs what it skips in the sort index, so a page in the back half
			// is read backwards from the end: the last page costs what the first does.
			n = min(limit, page.Total-f.Offset)
			if rest := page.Total - f.Offset - n; rest < offset {
				offset, backwards = rest, true
			}
		}
		pageCond, pageArgs := cond, args
		if anchorable {
			set, build, spacing := db.anchors.lookup(f.InstanceID, reorders, int64(page.Total), int64(offset))
			if build {
				db.buildAnchorsLater(f.InstanceID, spacing)
			}
			// The page's first user in ascending order; a descending page is the same
			// users read ascending and reversed.
			first := int64(f.Offset)
			if sorts[0].Descending {
				first = int64(page.Total - f.Offset - n)
			}
			if set != nil && first/set.spacing < int64(len(set.keys)) && first%set.spacing < int64(offset) {
				k := set.keys[first/set.spacing]
				// Seek to the anchor at or before the page and skip fewer than spacing.
				pageCond = cond + " AND (u.created_at, u.id) >= (?, ?)"
				pageArgs = append(slices.Clip(args), k.createdAt, k.id)
				offset, backwards = int(first%set.spacing), sorts[0].Descending
			}
		}
		var order []string
		for _, s := range sorts {
			order = append(order, "u."+sortColumns[s.Key]+direction(s.Descending != backwards))
		}
		order = append(order, "u.id"+direction(sorts[len(sorts)-1].Descending != backwards))
		orderBy := strings.Join(order, ", ")
		pageArgs = append(slices.Clip(pageArgs), n, offset)
		// Asked again now that the snapshot is taken (by the count): the same version
		// both times means the snapshot holds what the memory does.
		if db.cache.still(ctx, view) {
			// The page's ids as one row (SQLite, the engine with the memory): a row
			// each cost more to fetch than to find. The subquery's LIMIT keeps SQLite
			// from flattening it into the aggregate, so its rows reach group_concat in
			// their order (the listing tests of every order would see them out of it);
			// an ORDER BY inside group_concat cost a sort of what is already sorted.
			var joined sql.NullString
			if err := db.queryRow(ctx, tx, `SELECT group_concat(id, ',') FROM (
				SELECT u.id AS id FROM users u WHERE `+pageCond+` ORDER BY `+orderBy+` LIMIT ? OFFSET ?)`,
				pageArgs...).Scan(&joined); err != nil {
				return internal("list users", err)
			}
			var ids []string
			if joined.String != "" {
				ids = strings.Split(joined.String, ",")
			}
			users, err := db.usersFromMemory(ctx, tx, view, f, ids)
			if err != nil {
				return err
			}
			page.Users = users
			if backwards {
				slices.Reverse(page.Users)
			}
			return nil
		}
		// The offset is walked in the sort index alone (the inner query reads only
		// indexed columns); full rows are read for the page itself.
		rows, err := db.query(ctx, tx, `SELECT `+prefixed("u.", userColumns)+` FROM users u WHERE u.id IN (
			SELECT u.id FROM users u WHERE `+pageCond+` ORDER BY `+orderBy+` LIMIT ? OFFSET ?) ORDER BY `+orderBy, pageArgs...)
		if err != nil {
			return internal("list users", err)
		}
		defer rows.Close()
		page.Users = make([]iamd.User, 0, n) // a User is large: growing the page copied each several times
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return internal("scan user", err)
			}
			page.Users = append(page.Users, *u)
		}
		if err := rows.Err(); err != nil {
			return internal("list users", err)
		}
		if backwards {
			slices.Reverse(page.Users)
		}
		return db.fillListed(ctx, tx, f, page.Users)
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// usersFromMemory returns the users of ids, in order, as a listing with filter f reads
// them: from the read cache, and those it does not hold from tx, in a constant number of
// statements whatever their number.
func (db *DB) usersFromMemory(ctx context.Context, tx *txn, view readView, f iamd.UserFilter, ids []string) ([]iamd.User, error) {
	users := make([]iamd.User, len(ids))
	lacking := db.cache.listedPage(view, f.InstanceID, ids, f, users)
	if len(lacking) == 0 {
		return users, nil
	}
	at := make(map[string]int, len(lacking))
	missing := make([]any, len(lacking))
	for n, i := range lacking {
		at[ids[i]], missing[n] = i, ids[i]
	}
	// By id alone, which the listing took from this instance: with the instance in the
	// condition too, SQLite walked the instance's users through another index.
	rows, err := db.query(ctx, tx, `SELECT `+userColumns+` FROM users WHERE id IN (`+placeholders(len(missing))+`)`, missing...)
	if err != nil {
		return nil, internal("list users", err)
	}
	defer rows.Close()
	read := make([]iamd.User, 0, len(missing))
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, internal("scan user", err)
		}
		read = append(read, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list users", err)
	}
	rows.Close()
	if len(read) != len(missing) { // the snapshot listed them: they cannot be gone
		return nil, internal("list users", fmt.Errorf("%d of %d listed users read", len(read), len(missing)))
	}
	// While the memory has room, the missing users are read as GetUser reads them and
	// remembered, so that paging through a directory the memory can hold reads it once.
	// Once it is full they are read only as the listing shows them: pages across a
	// large directory would only churn the memory that reads of single users fill.
	if !db.cache.hasRoom(len(read)) {
		if err := db.fillListed(ctx, tx, f, read); err != nil {
			return nil, err
		}
		for _, u := range read {
			users[at[u.ID]] = u
		}
		return users, nil
	}
	if err := db.fillUsers(ctx, tx, f.InstanceID, read); err != nil {
		return nil, err
	}
	db.cache.putUsers(view, read)
	for i := range read {
		users[at[read[i].ID]] = listedUser(&read[i], f)
	}
	return users, nil
}

// fillListed fills in what the filter asks of listed users beyond their own fields.
func (db *DB) fillListed(ctx context.Context, q querier, f iamd.UserFilter, users []iamd.User) error {
	if f.WithRoles {
		if err := db.fillRoles(ctx, q, users); err != nil {
			return err
		}
	}
	if f.WithGroups {
		return db.fillGroups(ctx, q, f.InstanceID, users)
	}
	return nil
}

// fillGroups sets the Groups and InheritedGroups of users of one instance, in one query.
func (db *DB) fillGroups(ctx context.Context, q querier, instanceID string, users []iamd.User) error {
	if len(users) == 0 {
		return nil
	}
	at := make(map[string]int, len(users))
	args := []any{instanceID}
	for i := range users {
		users[i].Groups, users[i].InheritedGroups = []iamd.GroupRef{}, []iamd.GroupRef{}
		at[users[i].ID] = i
		args = append(args, users[i].ID)
	}
	rows, err := db.query(ctx, q, `WITH RECURSIVE ug (user_id, id, direct) AS (
			SELECT m.user_id, m.group_id, 1 FROM group_members m WHERE m.instance_id = ? AND m.user_id IN (`+placeholders(len(users))+`)
			UNION
			SELECT ug.user_id, s.group_id, 0 FROM group_subgroups s JOIN ug ON s.instance_id = ? AND s.member_id = ug.id)
		SELECT ug.user_id, g.id, g.name, max(ug.direct) FROM ug JOIN groups g ON g.instance_id = ? AND g.id = ug.id
		GROUP BY ug.user_id, g.id, g.name, g.name_key ORDER BY ug.user_id, g.name_key, g.id`,
		append(args, instanceID, instanceID)...)
	if err != nil {
		return internal("list user groups", err)
	}
	defer rows.Close()
	for rows.Next() {
		var userID string
		var g iamd.GroupRef
		var direct int
		if err := rows.Scan(&userID, &g.ID, &g.Name, &direct); err != nil {
			return internal("scan user group", err)
		}
		u := &users[at[userID]]
		if direct == 1 {
			u.Groups = append(u.Groups, g)
		} else {
			u.InheritedGroups = append(u.InheritedGroups, g)
		}
	}
	if err := rows.Err(); err != nil {
		return internal("list user groups", err)
	}
	return nil
}

// fillRoles sets the direct Roles of users, in one query.
func (db *DB) fillRoles(ctx context.Context, q querier, users []iamd.User) error {
	if len(users) == 0 {
		return nil
	}
	at := make(map[string]int, len(users))
	args := make([]any, len(users))
	for i := range users {
		users[i].Roles = []string{}
		at[users[i].ID], args[i] = i, users[i].ID
	}
	rows, err := db.query(ctx, q, `SELECT user_id, role FROM user_roles WHERE user_id IN (`+placeholders(len(users))+`) ORDER BY user_id, role`, args...)
	if err != nil {
		return internal("list roles", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, role string
		if err := rows.Scan(&id, &role); err != nil {
			return internal("scan role", err)
		}
		users[at[id]].Roles = append(users[at[id]].Roles, role)
	}
	if err := rows.Err(); err != nil {
		return internal("list roles", err)
	}
	return nil
}

// countUsers adjusts an instance's kept user count by delta. Every write that inserts or
// deletes users calls it, so it also counts the change: list anchors (anchors.go) are
// exact only while that count is the one they were built at.
func (db *DB) countUsers(ctx context.Context, q querier, instanceID string, delta int) error {
	_, err := db.exec(ctx, q, `INSERT INTO user_counts (instance_id, users, changes) VALUES (?, ?, 1)
		ON CONFLICT (instance_id) DO UPDATE SET users = user_counts.users + excluded.users, changes = user_counts.changes + 1`,
		instanceID, delta)
	if err != nil {
		return internal("count users", err)
	}
	return nil
}

func direction(desc bool) string {
	if desc {
		return " DESC"
	}
	return " ASC"
}

// prefixed qualifies every column of a comma-separated list.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// ListUserTags returns a user's tags by key.
func (db *DB) ListUserTags(ctx context.Context, instanceID, userID string) ([]iamd.Tag, error) {
	if err := db.requireUsers(ctx, db.read, instanceID, []string{userID}); err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, db.read, `SELECT tag_key, tag_value FROM user_tags WHERE user_id = ? ORDER BY tag_key`, userID)
	if err != nil {
		return nil, internal("list tags", err)
	}
	defer rows.Close()
	tags := []iamd.Tag{}
	for rows.Next() {
		var t iamd.Tag
		if err := rows.Scan(&t.Key, &t.Value); err != nil {
			return nil, internal("scan tag", err)
		}
		tags = append(tags, t)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list tags", err)
	}
	return tags, nil
}

// PutUserTags upserts tags, within MaxTagsPerUser.
func (db *DB) PutUserTags(ctx context.Context, instanceID, userID string, tags []iamd.Tag, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.requireUsers(ctx, tx, instanceID, []string{userID}); err != nil {
			return err
		}
		for _, t := range tags {
			if _, err := db.exec(ctx, tx, `INSERT INTO user_tags (user_id, tag_key, tag_value) VALUES (?, ?, ?)
				ON CONFLICT (user_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`, userID, t.Key, t.Value); err != nil {
				return internal("put tag", err)
			}
		}
		var n int
		if err := db.queryRow(ctx, tx, `SELECT count(*) FROM user_tags WHERE user_id = ?`, userID).Scan(&n); err != nil {
			return internal("count tags", err)
		}
		if n > iamd.MaxTagsPerUser {
			return iamd.Invalid(iamd.FieldTags, "a user has at most %d tags; this would make %d", iamd.MaxTagsPerUser, n)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// DeleteUserTags removes tags by key.
func (db *DB) DeleteUserTags(ctx context.Context, instanceID, userID string, keys []string, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.requireUsers(ctx, tx, instanceID, []string{userID}); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := db.exec(ctx, tx, `DELETE FROM user_tags WHERE user_id = ? AND tag_key = ?`, userID, k); err != nil {
				return internal("delete tag", err)
			}
		}
		return db.insertEvent(ctx, tx, ev)
	})
}
