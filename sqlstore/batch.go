package sqlstore

import (
	"context"
	"slices"

	"iamd"
)

// What a listing shows of each of its rows beyond the rows themselves, read for a whole
// page in one statement: a page costs the same number of statements whatever its size.

// maxIDsPerStatement bounds the ids one statement binds (SQLite binds at most 32,766
// parameters, PostgreSQL 65,535): a page has at most iamd.MaxPageSize rows, but a face
// that shows every user at once (ECE) asks about the actors of them all.
const maxIDsPerStatement = 500

// EffectiveGrantsOf returns the effective roles and privileges of each of userIDs, in
// one statement: those of EffectiveRoles and EffectivePrivileges, for every user at once.
func (db *DB) EffectiveGrantsOf(ctx context.Context, instanceID string, userIDs []string) (map[string]iamd.Grants, error) {
	out := make(map[string]iamd.Grants, len(userIDs))
	for _, id := range userIDs {
		out[id] = iamd.Grants{Roles: []string{}, Privileges: []string{}}
	}
	for chunk := range chunks(dedupe(userIDs), iamd.MaxPageSize) {
		in := placeholders(len(chunk))
		ids := make([]any, len(chunk))
		for i, id := range chunk {
			ids[i] = id
		}
		// roles_of is every role a user holds, directly or through any of its groups (as
		// user_groups has them); its privileges are those roles' and its own.
		query := `WITH RECURSIVE ug (user_id, id) AS (
				SELECT m.user_id, m.group_id FROM group_members m WHERE m.user_id IN (` + in + `)
				UNION
				SELECT ug.user_id, s.group_id FROM group_subgroups s JOIN ug ON s.instance_id = ? AND s.member_id = ug.id),
			roles_of (user_id, role) AS (
				SELECT ur.user_id, ur.role FROM user_roles ur WHERE ur.user_id IN (` + in + `)
				UNION
				SELECT ug.user_id, gr.role FROM ug JOIN group_roles gr ON gr.instance_id = ? AND gr.group_id = ug.id)
			SELECT ro.user_id, 0, ro.role FROM roles_of ro
			UNION
			SELECT up.user_id, 1, up.privilege FROM user_privileges up WHERE up.user_id IN (` + in + `)
			UNION
			SELECT ro.user_id, 1, rp.privilege FROM roles_of ro JOIN role_privileges rp ON rp.instance_id = ? AND rp.role = ro.role
			ORDER BY 1, 2, 3`
		args := slices.Concat(ids, []any{instanceID}, ids, []any{instanceID}, ids, []any{instanceID})
		rows, err := db.query(ctx, db.read, query, args...)
		if err != nil {
			return nil, internal("effective grants", err)
		}
		for rows.Next() {
			var userID, name string
			var privilege int
			if err := rows.Scan(&userID, &privilege, &name); err != nil {
				rows.Close()
				return nil, internal("scan grant", err)
			}
			g := out[userID]
			if privilege == 1 {
				g.Privileges = append(g.Privileges, name)
			} else {
				g.Roles = append(g.Roles, name)
			}
			out[userID] = g
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, internal("effective grants", err)
		}
	}
	return out, nil
}

// UserLogins returns the login names of those of ids that are users of the instance.
func (db *DB) UserLogins(ctx context.Context, instanceID string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	ids = dedupe(ids)
	for chunk := range chunks(ids, maxIDsPerStatement) {
		args := []any{instanceID}
		rows, err := db.query(ctx, db.read, `SELECT id, login_name FROM users WHERE instance_id = ? AND id IN (`+
			inList(chunk, &args)+`)`, args...)
		if err != nil {
			return nil, internal("user logins", err)
		}
		for rows.Next() {
			var id, login string
			if err := rows.Scan(&id, &login); err != nil {
				rows.Close()
				return nil, internal("scan login", err)
			}
			out[id] = login
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, internal("user logins", err)
		}
	}
	return out, nil
}

// GroupMembersOf returns the direct members of each of groupIDs, users and nested groups
// together in one statement. A group that is not the instance's has none.
func (db *DB) GroupMembersOf(ctx context.Context, instanceID string, groupIDs []string) (map[string]iamd.GroupMemberList, error) {
	out := make(map[string]iamd.GroupMemberList, len(groupIDs))
	for _, id := range groupIDs {
		out[id] = iamd.GroupMemberList{Users: []iamd.MemberUser{}, Groups: []iamd.GroupRef{}}
	}
	for chunk := range chunks(dedupe(groupIDs), iamd.MaxPageSize) {
		args := []any{instanceID}
		users := inList(chunk, &args)
		args = append(args, instanceID)
		groups := inList(chunk, &args)
		// Users (kind 0) by login key, then groups (kind 1) by name key, each tie by id:
		// the orders ListUsers by login name and ListMemberGroups answer in.
		rows, err := db.query(ctx, db.read, `SELECT m.group_id, 0, u.login_key, u.id, u.login_name, u.display_name
				FROM group_members m JOIN users u ON u.instance_id = m.instance_id AND u.id = m.user_id
				WHERE m.instance_id = ? AND m.group_id IN (`+users+`)
			UNION ALL
			SELECT s.group_id, 1, g.name_key, g.id, g.name, ''
				FROM group_subgroups s JOIN groups g ON g.instance_id = s.instance_id AND g.id = s.member_id
				WHERE s.instance_id = ? AND s.group_id IN (`+groups+`)
			ORDER BY 1, 2, 3, 4`, args...)
		if err != nil {
			return nil, internal("group members", err)
		}
		for rows.Next() {
			var groupID, key, id, name, display string
			var group int
			if err := rows.Scan(&groupID, &group, &key, &id, &name, &display); err != nil {
				rows.Close()
				return nil, internal("scan member", err)
			}
			m := out[groupID]
			if group == 1 {
				m.Groups = append(m.Groups, iamd.GroupRef{ID: id, Name: name})
			} else {
				m.Users = append(m.Users, iamd.MemberUser{ID: id, LoginName: name, DisplayName: display})
			}
			out[groupID] = m
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, internal("group members", err)
		}
	}
	return out, nil
}

// chunks yields ids in slices of at most n.
func chunks(ids []string, n int) func(yield func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(ids) > 0 {
			k := min(n, len(ids))
			if !yield(ids[:k]) {
				return
			}
			ids = ids[k:]
		}
	}
}

// dedupe returns ids without repeats or empty ids, in first-seen order.
func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
