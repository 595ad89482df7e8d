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

// CreateGroup stores a group and its roles; ECONFLICT when the id is taken in the instance.
func (db *DB) CreateGroup(ctx context.Context, g *iamd.Group, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		_, err := db.exec(ctx, tx, `INSERT INTO groups (instance_id, id, name, name_key, description, external_id,
			created_at, created_by, created_by_name, updated_at, updated_by, updated_by_name, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.InstanceID, g.ID, g.Name, strings.ToLower(g.Name), g.Description, g.ExternalID,
			micros(g.CreatedAt), g.CreatedBy, g.CreatedByName, micros(g.UpdatedAt), g.UpdatedBy, g.UpdatedByName, g.Version)
		switch v, _ := db.dialect.Classify(err); {
		case v == UniqueViolation:
			return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldID,
				Message: fmt.Sprintf("A group with id %q already exists in instance %q.", g.ID, g.InstanceID)}
		case v == ForeignKeyViolation:
			return iamd.Invalid(iamd.FieldInstanceID, "no instance with id %q", g.InstanceID)
		case err != nil:
			return internal("insert group", err)
		}
		for _, role := range g.Roles {
			if _, err := db.exec(ctx, tx, `INSERT INTO group_roles (instance_id, group_id, role) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, g.InstanceID, g.ID, role); err != nil {
				return internal("insert group role", err)
			}
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// UpdateGroup renames a group or changes its description, if nobody changed it since
// expectedVersion.
func (db *DB) UpdateGroup(ctx context.Context, g *iamd.Group, expectedVersion int64, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		res, err := db.exec(ctx, tx, `UPDATE groups SET name = ?, name_key = ?, description = ?, external_id = ?, updated_at = ?,
			updated_by = ?, updated_by_name = ?, version = ? WHERE instance_id = ? AND id = ? AND version = ?`,
			g.Name, strings.ToLower(g.Name), g.Description, g.ExternalID, micros(g.UpdatedAt), g.UpdatedBy, g.UpdatedByName, g.Version,
			g.InstanceID, g.ID, expectedVersion)
		if err != nil {
			return internal("update group", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return internal("update group", err)
		} else if n == 0 {
			var one int
			err := db.queryRow(ctx, tx, `SELECT 1 FROM groups WHERE instance_id = ? AND id = ?`, g.InstanceID, g.ID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return groupNotFound(g.ID)
			} else if err != nil {
				return internal("update group", err)
			}
			return iamd.Errorf(iamd.ECONFLICT, "Group %q was changed by another request; retry.", g.ID)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// GetGroup returns one group with its roles and member count.
func (db *DB) GetGroup(ctx context.Context, instanceID, id string) (*iamd.Group, error) {
	g, err := scanGroup(db.queryRow(ctx, db.read, `SELECT `+groupColumns+` FROM groups g WHERE g.instance_id = ? AND g.id = ?`, instanceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, groupNotFound(id)
	} else if err != nil {
		return nil, internal("get group", err)
	}
	if g.Roles, err = db.strings(ctx, `SELECT role FROM group_roles WHERE instance_id = ? AND group_id = ? ORDER BY role`, instanceID, id); err != nil {
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
	if err := db.queryRow(ctx, db.read, `SELECT count(*) FROM groups g WHERE `+cond, args...).Scan(&page.Total); err != nil {
		return nil, internal("count groups", err)
	}
	rows, err := db.query(ctx, db.read, `SELECT `+groupColumns+` FROM groups g WHERE `+cond+
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
func (db *DB) DeleteGroup(ctx context.Context, instanceID, id string, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		res, err := db.exec(ctx, tx, `DELETE FROM groups WHERE instance_id = ? AND id = ?`, instanceID, id)
		if err != nil {
			return internal("delete group", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return internal("delete group", err)
		} else if n == 0 {
			return groupNotFound(id)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// AddGroupMembers adds users to a group; existing members are left alone. Every user must
// be of the group's instance, else nothing changes.
func (db *DB) AddGroupMembers(ctx context.Context, instanceID, groupID string, userIDs []string, ev iamd.Event) error {
	return db.changeMembers(ctx, instanceID, groupID, userIDs, ev,
		`INSERT INTO group_members (instance_id, group_id, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
}

// RemoveGroupMembers removes users from a group; users who are not members are ignored.
func (db *DB) RemoveGroupMembers(ctx context.Context, instanceID, groupID string, userIDs []string, ev iamd.Event) error {
	return db.changeMembers(ctx, instanceID, groupID, userIDs, ev,
		`DELETE FROM group_members WHERE instance_id = ? AND group_id = ? AND user_id = ?`)
}

func (db *DB) changeMembers(ctx context.Context, instanceID, groupID string, userIDs []string, ev iamd.Event, stmt string) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.touchGroup(ctx, tx, instanceID, groupID, ev); err != nil {
			return err
		}
		if err := db.requireUsers(ctx, tx, instanceID, userIDs); err != nil {
			return err
		}
		for _, uid := range userIDs {
			if _, err := db.exec(ctx, tx, stmt, instanceID, groupID, uid); err != nil {
				return internal("change membership", err)
			}
		}
		return db.insertEvent(ctx, tx, ev)
	})
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

// AddMemberGroups nests groups in a group; see iamd.Store.
func (db *DB) AddMemberGroups(ctx context.Context, instanceID, groupID string, memberIDs []string, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.touchGroup(ctx, tx, instanceID, groupID, ev); err != nil {
			return err
		}
		if missing, err := db.firstMissing(ctx, tx, "groups", instanceID, memberIDs); err != nil {
			return err
		} else if missing != "" {
			return &iamd.Error{Code: iamd.ENOTFOUND, Field: iamd.FieldMemberGroupIDs, Message: fmt.Sprintf("No group with id %q.", missing)}
		}
		if db.dialect.SerializeNesting != "" {
			if _, err := db.exec(ctx, tx, db.dialect.SerializeNesting, instanceID); err != nil {
				return internal("lock nesting", err)
			}
		}
		for _, member := range memberIDs {
			// A cycle would close if the group is the member or lies below it.
			var below int
			err := db.queryRow(ctx, tx, `WITH RECURSIVE below (id) AS (
					SELECT CAST(? AS TEXT)
					UNION
					SELECT s.member_id FROM group_subgroups s JOIN below b ON s.instance_id = ? AND s.group_id = b.id)
				SELECT count(*) FROM below WHERE id = ?`, member, instanceID, groupID).Scan(&below)
			if err != nil {
				return internal("check nesting", err)
			}
			if below > 0 {
				return &iamd.Error{Code: iamd.EINVALID, Field: iamd.FieldMemberGroupIDs,
					Message: fmt.Sprintf("Group %q cannot be a member of group %q: it would be its own member.", member, groupID)}
			}
			if _, err := db.exec(ctx, tx, `INSERT INTO group_subgroups (instance_id, group_id, member_id) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, instanceID, groupID, member); err != nil {
				return internal("nest group", err)
			}
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// RemoveMemberGroups takes nested groups out of a group; groups not nested in it are ignored.
func (db *DB) RemoveMemberGroups(ctx context.Context, instanceID, groupID string, memberIDs []string, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.touchGroup(ctx, tx, instanceID, groupID, ev); err != nil {
			return err
		}
		for _, member := range memberIDs {
			if _, err := db.exec(ctx, tx, `DELETE FROM group_subgroups WHERE instance_id = ? AND group_id = ? AND member_id = ?`,
				instanceID, groupID, member); err != nil {
				return internal("unnest group", err)
			}
		}
		return db.insertEvent(ctx, tx, ev)
	})
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
