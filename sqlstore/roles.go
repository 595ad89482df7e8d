package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"iamd"
)

func (db *DB) insertRole(ctx context.Context, tx *txn, r *iamd.Role) error {
	_, err := db.exec(ctx, tx, `INSERT INTO roles (instance_id, name, description, internal, excludes) VALUES (?, ?, ?, ?, ?)`,
		r.InstanceID, r.Name, r.Description, r.Builtin, strings.Join(r.Excludes, ","))
	if v, _ := db.dialect.Classify(err); v == UniqueViolation {
		return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldName, Message: fmt.Sprintf("A role named %q already exists.", r.Name)}
	} else if v == ForeignKeyViolation {
		return iamd.Errorf(iamd.ENOTFOUND, "No instance with id %q.", r.InstanceID)
	} else if err != nil {
		return internal("insert role", err)
	}
	for _, p := range r.Privileges {
		if _, err := db.exec(ctx, tx, `INSERT INTO role_privileges (instance_id, role, privilege) VALUES (?, ?, ?)`,
			r.InstanceID, r.Name, p); err != nil {
			return internal("insert role privilege", err)
		}
	}
	return nil
}

// UpdateRole replaces a custom role's description and privileges.
func (db *DB) UpdateRole(ctx context.Context, r *iamd.Role, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.lockRights(ctx, tx, r.InstanceID, true); err != nil {
			return err
		}
		var builtin bool
		err := db.queryRow(ctx, tx, `SELECT internal FROM roles WHERE instance_id = ? AND name = ?`, r.InstanceID, r.Name).Scan(&builtin)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return iamd.Errorf(iamd.ENOTFOUND, "No role named %q.", r.Name)
		case err != nil:
			return internal("find role", err)
		case builtin:
			return iamd.Invalid(iamd.FieldName, "built-in roles cannot be changed")
		}
		if _, err := db.exec(ctx, tx, `UPDATE roles SET description = ? WHERE instance_id = ? AND name = ?`, r.Description, r.InstanceID, r.Name); err != nil {
			return internal("update role", err)
		}
		if err := db.bumpRoleHolders(ctx, tx, r.InstanceID, r.Name); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM role_privileges WHERE instance_id = ? AND role = ?`, r.InstanceID, r.Name); err != nil {
			return internal("update role", err)
		}
		for _, p := range r.Privileges {
			if _, err := db.exec(ctx, tx, `INSERT INTO role_privileges (instance_id, role, privilege) VALUES (?, ?, ?)`, r.InstanceID, r.Name, p); err != nil {
				return internal("insert role privilege", err)
			}
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// PutRoles creates or replaces roles, privileges included. The holders of a role whose
// privileges change become new versions, as UpdateRole makes them: a release that
// redefines a built-in role changes what its holders may do on every replica at once.
// A role put again as it was changes no version.
func (db *DB) PutRoles(ctx context.Context, instanceID string, roles []iamd.Role) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.lockRights(ctx, tx, instanceID, true); err != nil {
			return err
		}
		for _, r := range roles {
			r.InstanceID = instanceID
			had, err := db.strings(ctx, tx, `SELECT privilege FROM role_privileges WHERE instance_id = ? AND role = ?`, instanceID, r.Name)
			if err != nil {
				return err
			}
			next := slices.Compact(slices.Sorted(slices.Values(r.Privileges)))
			slices.Sort(had)
			if !slices.Equal(had, next) {
				if err := db.bumpRoleHolders(ctx, tx, instanceID, r.Name); err != nil {
					return err
				}
			}
			if _, err := db.exec(ctx, tx, `DELETE FROM role_privileges WHERE instance_id = ? AND role = ?`, instanceID, r.Name); err != nil {
				return internal("replace role", err)
			}
			if _, err := db.exec(ctx, tx, `DELETE FROM roles WHERE instance_id = ? AND name = ?`, instanceID, r.Name); err != nil {
				return internal("replace role", err)
			}
			if err := db.insertRole(ctx, tx, &r); err != nil {
				return err
			}
		}
		return nil
	})
}

// CreateRole adds a custom role.
func (db *DB) CreateRole(ctx context.Context, r *iamd.Role, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.insertRole(ctx, tx, r); err != nil {
			return err
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// ListRoles returns an instance's roles by name, each with its sorted privileges.
func (db *DB) ListRoles(ctx context.Context, instanceID string) ([]iamd.Role, error) {
	rows, err := db.query(ctx, db.read, `SELECT r.name, r.description, r.internal, r.excludes, rp.privilege
		FROM roles r LEFT JOIN role_privileges rp ON rp.instance_id = r.instance_id AND rp.role = r.name
		WHERE r.instance_id = ? ORDER BY r.name, rp.privilege`, instanceID)
	if err != nil {
		return nil, internal("list roles", err)
	}
	defer rows.Close()
	out := []iamd.Role{}
	for rows.Next() {
		var r iamd.Role
		var excludes string
		var privilege sql.NullString
		if err := rows.Scan(&r.Name, &r.Description, &r.Builtin, &excludes, &privilege); err != nil {
			return nil, internal("scan role", err)
		}
		if n := len(out); n == 0 || out[n-1].Name != r.Name {
			r.InstanceID, r.Privileges = instanceID, []string{}
			if excludes != "" {
				r.Excludes = strings.Split(excludes, ",")
			}
			out = append(out, r)
		}
		if privilege.Valid {
			last := &out[len(out)-1]
			last.Privileges = append(last.Privileges, privilege.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list roles", err)
	}
	return out, nil
}

// DeleteRole removes a role and every grant of it.
func (db *DB) DeleteRole(ctx context.Context, instanceID, name string, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.lockRights(ctx, tx, instanceID, true); err != nil {
			return err
		}
		if err := db.bumpRoleHolders(ctx, tx, instanceID, name); err != nil {
			return err
		}
		res, err := db.exec(ctx, tx, `DELETE FROM roles WHERE instance_id = ? AND name = ?`, instanceID, name)
		if err != nil {
			return internal("delete role", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return iamd.Errorf(iamd.ENOTFOUND, "No role named %q.", name)
		}
		for _, q := range []string{
			`DELETE FROM role_privileges WHERE instance_id = ? AND role = ?`,
			`DELETE FROM group_roles WHERE instance_id = ? AND role = ?`,
			`DELETE FROM user_roles WHERE user_id IN (SELECT id FROM users WHERE instance_id = ?) AND role = ?`,
		} {
			if _, err := db.exec(ctx, tx, q, instanceID, name); err != nil {
				return internal("delete role grants", err)
			}
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// requireRoles answers EINVALID naming the first role the instance does not have.
func (db *DB) requireRoles(ctx context.Context, tx *txn, instanceID string, roles []string) error {
	if len(roles) == 0 {
		return nil
	}
	// In the transaction: a role deleted earlier in it (or in its commit batch) is gone.
	have, err := db.strings(ctx, tx, `SELECT name FROM roles WHERE instance_id = ?`, instanceID)
	if err != nil {
		return err
	}
	for _, r := range roles {
		if !slices.Contains(have, r) {
			return iamd.Invalid(iamd.FieldRoles, "no role named %q", r)
		}
	}
	return nil
}

// replaceUserRoles makes roles, which must be the instance's, the user's direct roles.
func (db *DB) replaceUserRoles(ctx context.Context, tx *txn, instanceID, userID string, roles []string) error {
	if err := db.requireRoles(ctx, tx, instanceID, roles); err != nil {
		return err
	}
	if _, err := db.exec(ctx, tx, `DELETE FROM user_roles WHERE user_id = ?`, userID); err != nil {
		return internal("replace user roles", err)
	}
	for _, r := range roles {
		if _, err := db.exec(ctx, tx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?) ON CONFLICT DO NOTHING`, userID, r); err != nil {
			return internal("grant role", err)
		}
	}
	return nil
}

// SetGroupRoles replaces the roles a group's members inherit.
func (db *DB) SetGroupRoles(ctx context.Context, instanceID, groupID string, roles []string, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.lockRights(ctx, tx, instanceID, true); err != nil {
			return err
		}
		missing, err := db.firstMissing(ctx, tx, "groups", instanceID, []string{groupID})
		if err != nil {
			return err
		}
		if missing != "" {
			return iamd.Errorf(iamd.ENOTFOUND, "No group with id %q.", groupID)
		}
		if err := db.requireRoles(ctx, tx, instanceID, roles); err != nil {
			return err
		}
		if err := db.touchGroup(ctx, tx, instanceID, groupID, ev); err != nil {
			return err
		}
		if err := db.bumpUsersUnder(ctx, tx, instanceID, groupID); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM group_roles WHERE instance_id = ? AND group_id = ?`, instanceID, groupID); err != nil {
			return internal("replace group roles", err)
		}
		for _, r := range roles {
			if _, err := db.exec(ctx, tx, `INSERT INTO group_roles (instance_id, group_id, role) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
				instanceID, groupID, r); err != nil {
				return internal("grant group role", err)
			}
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// lockRights takes the instance's rights lock for the rest of tx: exclusive for a write
// that finds by a query the users whose rights it changes (a role redefined or deleted,
// a group's roles, a group deleted, a nesting changed), shared for a write that changes
// who holds what (a user's roles, privileges or groups, a group's members). A
// principal is remembered with its user's version (account's cache), so every user a
// change affects must become a new version in that change; under READ COMMITTED, a
// query run by the first kind would not see a membership that one of the second kind
// commits meanwhile, and would leave that user's version as it was. Writes of the second
// kind bump their own users and run side by side; each of the first kind runs alone.
// A transaction takes the lock once, in one mode, so none waits on itself.
func (db *DB) lockRights(ctx context.Context, tx *txn, instanceID string, exclusive bool) error {
	lock := db.dialect.ShareRights
	if exclusive {
		lock = db.dialect.LockRights
	}
	if lock == "" {
		return nil
	}
	if _, err := db.exec(ctx, tx, lock, instanceID); err != nil {
		return internal("lock rights", err)
	}
	return nil
}
