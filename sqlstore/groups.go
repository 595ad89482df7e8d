package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"iamd"
)

const groupColumns = `g.id, g.instance_id, g.name, g.description, g.external_id, g.created_at, g.created_by, g.created_by_name,
	g.updated_at, g.updated_by, g.updated_by_name, g.version,
	(SELECT count(*) FROM group_members m WHERE m.instance_id = g.instance_id AND m.group_id = g.id)`

func scanGroup(r rowScanner) (*iamd.Group, error) {
	var g iamd.Group
	var created, updated int64
	if err := r.Scan(&g.ID, &g.InstanceID, &g.Name, &g.Description, &g.ExternalID, &created, &g.CreatedBy, &g.CreatedByName,
		&updated, &g.UpdatedBy, &g.UpdatedByName, &g.Version, &g.MemberCount); err != nil {
		return nil, err
	}
	g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &g, nil
}

func groupNotFound(id string) error {
	return iamd.Errorf(iamd.ENOTFOUND, "No group with id %q.", id)
}

// uniqueKeyArg is the value of a group's unique_key: its name key when the instance
// keeps names unique, else NULL, which the unique index lets repeat. It is two
// placeholders, the instance id and the key.
const uniqueKeyArg = `CASE WHEN (SELECT duplicate_group_names FROM instances WHERE id = ?) THEN NULL ELSE ? END`

func nameTaken(g *iamd.Group) error {
	return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldName,
		Message: fmt.Sprintf("A group named %q already exists in instance %q.", g.Name, g.InstanceID)}
}

// CreateGroup stores a group and its first members; a new group carries no roles (its
// roles are set apart, SetGroupRoles).
func (db *DB) CreateGroup(ctx context.Context, w iamd.GroupWrite) error {
	g := w.Group
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.lockMembers(ctx, tx, g.InstanceID, w.Add, iamd.GroupMembers{}); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO groups (instance_id, id, name, name_key, unique_key, description, external_id,
			created_at, created_by, created_by_name, updated_at, updated_by, updated_by_name, version)
			VALUES (?, ?, ?, ?, `+uniqueKeyArg+`, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.InstanceID, g.ID, g.Name, iamd.GroupNameKey(g.Name), g.InstanceID, iamd.GroupNameKey(g.Name), g.Description, g.ExternalID,
			micros(g.CreatedAt), g.CreatedBy, g.CreatedByName, micros(g.UpdatedAt), g.UpdatedBy, g.UpdatedByName, g.Version)
		switch v, constraint := db.dialect.Classify(err); {
		case v == UniqueViolation && strings.Contains(constraint, "unique_"): // groups_unique_name, groups.unique_key
			return nameTaken(g)
		case v == UniqueViolation:
			return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldID,
				Message: fmt.Sprintf("A group with id %q already exists in instance %q.", g.ID, g.InstanceID)}
		case v == ForeignKeyViolation:
			return iamd.Invalid(iamd.FieldInstanceID, "no instance with id %q", g.InstanceID)
		case err != nil:
			return internal("insert group", err)
		}
		if err := db.changeMembers(ctx, tx, g, w.Add, iamd.GroupMembers{}); err != nil {
			return err
		}
		return db.insertEvent(ctx, tx, w.Event)
	})
}

// UpdateGroup stores a change of a group made from w.ExpectedVersion, its members' too.
func (db *DB) UpdateGroup(ctx context.Context, w iamd.GroupWrite) error {
	g := w.Group
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.lockMembers(ctx, tx, g.InstanceID, w.Add, w.Remove); err != nil {
			return err
		}
		res, err := db.exec(ctx, tx, `UPDATE groups SET name = ?, name_key = ?, unique_key = `+uniqueKeyArg+`,
			description = ?, external_id = ?, updated_at = ?, updated_by = ?, updated_by_name = ?, version = ?
			WHERE instance_id = ? AND id = ? AND version = ?`,
			g.Name, iamd.GroupNameKey(g.Name), g.InstanceID, iamd.GroupNameKey(g.Name), g.Description, g.ExternalID,
			micros(g.UpdatedAt), g.UpdatedBy, g.UpdatedByName, g.Version, g.InstanceID, g.ID, w.ExpectedVersion)
		if v, _ := db.dialect.Classify(err); v == UniqueViolation {
			return nameTaken(g)
		} else if err != nil {
			return internal("update group", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return internal("update group", err)
		} else if n == 0 {
			if missing, err := db.firstMissing(ctx, tx, "groups", g.InstanceID, []string{g.ID}); err != nil {
				return err
			} else if missing != "" {
				return groupNotFound(g.ID)
			}
			return versionConflict("group", g.ID)
		}
		if err := db.changeMembers(ctx, tx, g, w.Add, w.Remove); err != nil {
			return err
		}
		return db.insertEvent(ctx, tx, w.Event)
	})
}

// changeMembers adds and removes a group's users and nested groups. Users and groups
// added must be the instance's; a nesting that would make a group its own member is
// refused, under the dialect's lock on nesting in the instance.
// lockMembers takes the rights lock a change of members needs, first thing in its
// transaction (before any row lock, so that no two writers wait on each other): a
// nesting finds the users it changes by a query — and two nestings must not each pass
// the cycle check and close a cycle together — so it runs alone; users joining or
// leaving share the lock.
func (db *DB) lockMembers(ctx context.Context, tx *txn, instanceID string, add, remove iamd.GroupMembers) error {
	switch {
	case len(add.Groups)+len(remove.Groups) > 0:
		return db.lockRights(ctx, tx, instanceID, true)
	case len(add.Users)+len(remove.Users) > 0:
		return db.lockRights(ctx, tx, instanceID, false)
	}
	return nil
}

func (db *DB) changeMembers(ctx context.Context, tx *txn, g *iamd.Group, add, remove iamd.GroupMembers) error {
	if err := db.requireUsers(ctx, tx, g.InstanceID, add.Users); err != nil {
		return err
	}
	// The users whose rights may change: those removed now, and those under the groups
	// unnested; the ones added and newly nested below follow the changes.
	if err := db.bumpUsers(ctx, tx, g.InstanceID, remove.Users); err != nil {
		return err
	}
	for _, member := range remove.Groups {
		if err := db.bumpUsersUnder(ctx, tx, g.InstanceID, member); err != nil {
			return err
		}
	}
	for _, uid := range add.Users {
		if _, err := db.exec(ctx, tx, `INSERT INTO group_members (instance_id, group_id, user_id) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, g.InstanceID, g.ID, uid); err != nil {
			return internal("add member", err)
		}
	}
	if err := db.bumpUsers(ctx, tx, g.InstanceID, add.Users); err != nil {
		return err
	}
	for _, uid := range remove.Users {
		if _, err := db.exec(ctx, tx, `DELETE FROM group_members WHERE instance_id = ? AND group_id = ? AND user_id = ?`,
			g.InstanceID, g.ID, uid); err != nil {
			return internal("remove member", err)
		}
	}
	for _, member := range remove.Groups {
		if _, err := db.exec(ctx, tx, `DELETE FROM group_subgroups WHERE instance_id = ? AND group_id = ? AND member_id = ?`,
			g.InstanceID, g.ID, member); err != nil {
			return internal("unnest group", err)
		}
	}
	if len(add.Groups) == 0 {
		return nil
	}
	if missing, err := db.firstMissing(ctx, tx, "groups", g.InstanceID, add.Groups); err != nil {
		return err
	} else if missing != "" {
		return &iamd.Error{Code: iamd.ENOTFOUND, Field: iamd.FieldMemberGroupIDs, Message: fmt.Sprintf("No group with id %q.", missing)}
	}
	for _, member := range add.Groups {
		// A cycle would close if the group is the member or lies below it.
		var below int
		err := db.queryRow(ctx, tx, `WITH RECURSIVE below (id) AS (
				SELECT CAST(? AS TEXT)
				UNION
				SELECT s.member_id FROM group_subgroups s JOIN below b ON s.instance_id = ? AND s.group_id = b.id)
			SELECT count(*) FROM below WHERE id = ?`, member, g.InstanceID, g.ID).Scan(&below)
		if err != nil {
			return internal("check nesting", err)
		}
		if below > 0 {
			return &iamd.Error{Code: iamd.EINVALID, Field: iamd.FieldMemberGroupIDs,
				Message: fmt.Sprintf("Group %q cannot be a member of group %q: it would be its own member.", member, g.ID)}
		}
		if _, err := db.exec(ctx, tx, `INSERT INTO group_subgroups (instance_id, group_id, member_id) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, g.InstanceID, g.ID, member); err != nil {
			return internal("nest group", err)
		}
		if err := db.bumpUsersUnder(ctx, tx, g.InstanceID, member); err != nil {
			return err
		}
	}
	return nil
}

// bumpUsers makes each of the instance's users ids a new version.
func (db *DB) bumpUsers(ctx context.Context, tx *txn, instanceID string, ids []string) error {
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := []any{instanceID}
		for _, id := range chunk {
			args = append(args, id)
		}
		if _, err := db.exec(ctx, tx, `UPDATE users SET version = version + 1 WHERE instance_id = ? AND id IN (`+
			placeholders(len(chunk))+`)`, args...); err != nil {
			return internal("new user versions", err)
		}
	}
	return nil
}

// belowGroups names, as below (id), groupsSQL's groups and every group nested under
// them, in the instance of the CTE's last parameter.
const belowGroups = `WITH RECURSIVE below (id) AS (%s
		UNION
		SELECT s.member_id FROM group_subgroups s JOIN below b ON s.instance_id = ? AND s.group_id = b.id) `

// bumpUsersUnder makes every user in groupID, directly or through groups nested in it,
// a new version: their rights through the group changed.
func (db *DB) bumpUsersUnder(ctx context.Context, tx *txn, instanceID, groupID string) error {
	_, err := db.exec(ctx, tx, fmt.Sprintf(belowGroups, `SELECT CAST(? AS TEXT)`)+`UPDATE users SET version = version + 1
		WHERE instance_id = ? AND id IN (SELECT m.user_id FROM group_members m JOIN below b ON m.instance_id = ? AND m.group_id = b.id)`,
		groupID, instanceID, instanceID, instanceID)
	if err != nil {
		return internal("new user versions", err)
	}
	return nil
}

// bumpRoleHolders makes every user holding role — directly, or through a group, nested
// ones included — a new version: what the role grants them changed.
func (db *DB) bumpRoleHolders(ctx context.Context, tx *txn, instanceID, role string) error {
	_, err := db.exec(ctx, tx, fmt.Sprintf(belowGroups, `SELECT group_id FROM group_roles WHERE instance_id = ? AND role = ?`)+
		`UPDATE users SET version = version + 1 WHERE instance_id = ? AND (id IN (SELECT user_id FROM user_roles WHERE role = ?)
			OR id IN (SELECT m.user_id FROM group_members m JOIN below b ON m.instance_id = ? AND m.group_id = b.id))`,
		instanceID, role, instanceID, instanceID, role, instanceID)
	if err != nil {
		return internal("new user versions", err)
	}
	return nil
}

// GetGroup returns one group with its roles and member count.
func (db *DB) GetGroup(ctx context.Context, instanceID, id string) (*iamd.Group, error) {
	g, err := scanGroup(db.queryRow(ctx, db.read, `SELECT `+groupColumns+` FROM groups g WHERE g.instance_id = ? AND g.id = ?`, instanceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, groupNotFound(id)
	} else if err != nil {
		return nil, internal("get group", err)
	}
	if g.Roles, err = db.strings(ctx, db.read, `SELECT role FROM group_roles WHERE instance_id = ? AND group_id = ? ORDER BY role`, instanceID, id); err != nil {
		return nil, err
	}
	return g, nil
}

// ListGroups returns one page of groups by name, and the number of matches.
func (db *DB) ListGroups(ctx context.Context, f iamd.GroupFilter) (*iamd.GroupPage, error) {
	cond := "g.instance_id = ?"
	args := []any{f.InstanceID}
	if f.Name != "" {
		cond += " AND g.name_key = ?"
		args = append(args, strings.ToLower(f.Name))
	}
	if f.ID != "" {
		cond += " AND g.id = ?"
		args = append(args, f.ID)
	}
	if f.ExternalID != "" {
		cond += " AND g.external_id = ?"
		args = append(args, f.ExternalID)
	}
	if f.MemberID != "" {
		cond += ` AND (EXISTS (SELECT 1 FROM group_members m WHERE m.instance_id = g.instance_id AND m.group_id = g.id AND m.user_id = ?)
			OR EXISTS (SELECT 1 FROM group_subgroups s WHERE s.instance_id = g.instance_id AND s.group_id = g.id AND s.member_id = ?))`
		args = append(args, f.MemberID, f.MemberID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = iamd.DefaultPageSize
	}
	page := &iamd.GroupPage{Groups: []iamd.Group{}}
	pool := db.readFor(f.MayLag)
	if err := db.queryRow(ctx, pool, `SELECT count(*) FROM groups g WHERE `+cond, args...).Scan(&page.Total); err != nil {
		return nil, internal("count groups", err)
	}
	rows, err := db.query(ctx, pool, `SELECT `+groupColumns+` FROM groups g WHERE `+cond+
		` ORDER BY g.name_key, g.id LIMIT ? OFFSET ?`, append(args, limit, f.Offset)...)
	if err != nil {
		return nil, internal("list groups", err)
	}
	defer rows.Close()
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, internal("scan group", err)
		}
		page.Groups = append(page.Groups, *g)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list groups", err)
	}
	return page, nil
}

// DeleteGroup removes a group and its memberships; the members stay.
func (db *DB) DeleteGroup(ctx context.Context, instanceID, id string, expectedVersion int64, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.lockRights(ctx, tx, instanceID, true); err != nil {
			return err
		}
		if err := db.bumpUsersUnder(ctx, tx, instanceID, id); err != nil {
			return err
		}
		res, err := db.exec(ctx, tx, `DELETE FROM groups WHERE instance_id = ? AND id = ? AND (? = 0 OR version = ?)`,
			instanceID, id, expectedVersion, expectedVersion)
		if err != nil {
			return internal("delete group", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return internal("delete group", err)
		} else if n == 0 {
			if missing, err := db.firstMissing(ctx, tx, "groups", instanceID, []string{id}); err != nil {
				return err
			} else if missing != "" {
				return groupNotFound(id)
			}
			return versionConflict("group", id)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// GroupGrants returns the privileges of the roles of a group and of every group above it.
func (db *DB) GroupGrants(ctx context.Context, instanceID, groupID string) ([]string, error) {
	return db.strings(ctx, db.read, `WITH RECURSIVE above (id) AS (
			SELECT CAST(? AS TEXT)
			UNION
			SELECT s.group_id FROM group_subgroups s JOIN above a ON s.instance_id = ? AND s.member_id = a.id)
		SELECT DISTINCT rp.privilege FROM above a
			JOIN group_roles gr ON gr.instance_id = ? AND gr.group_id = a.id
			JOIN role_privileges rp ON rp.instance_id = gr.instance_id AND rp.role = gr.role
		ORDER BY 1`, groupID, instanceID, instanceID)
}

// touchGroup records a change of a group's members as a new version of the group (its
// SCIM ETag and lastModified), or answers ENOTFOUND.
func (db *DB) touchGroup(ctx context.Context, tx *txn, instanceID, groupID string, ev iamd.Event) error {
	res, err := db.exec(ctx, tx, `UPDATE groups SET version = version + 1, updated_at = ?, updated_by = ?, updated_by_name = ?
		WHERE instance_id = ? AND id = ?`, micros(ev.Time), ev.ActorID, ev.ActorName, instanceID, groupID)
	if err != nil {
		return internal("touch group", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return internal("touch group", err)
	} else if n == 0 {
		return groupNotFound(groupID)
	}
	return nil
}

// ListMemberGroups returns the groups nested directly in a group, by name.
func (db *DB) ListMemberGroups(ctx context.Context, instanceID, groupID string) ([]iamd.GroupRef, error) {
	rows, err := db.query(ctx, db.read, `SELECT g.id, g.name FROM group_subgroups s
		JOIN groups g ON g.instance_id = s.instance_id AND g.id = s.member_id
		WHERE s.instance_id = ? AND s.group_id = ? ORDER BY g.name_key, g.id`, instanceID, groupID)
	if err != nil {
		return nil, internal("member groups", err)
	}
	defer rows.Close()
	out := []iamd.GroupRef{}
	for rows.Next() {
		var g iamd.GroupRef
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return nil, internal("scan group", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("member groups", err)
	}
	return out, nil
}

// requireUsers answers ENOTFOUND naming the first of ids that is not a user of the instance.
func (db *DB) requireUsers(ctx context.Context, q querier, instanceID string, ids []string) error {
	missing, err := db.firstMissing(ctx, q, "users", instanceID, ids)
	if err != nil || missing == "" {
		return err
	}
	return &iamd.Error{Code: iamd.ENOTFOUND, Field: iamd.FieldUserIDs, Message: fmt.Sprintf("No user with id %q.", missing)}
}
