package sqlstore

import (
	"strings"
	"time"

	"iamd"
)

// nullableTimes are the time columns that may be null; the others always hold a value.
var nullableTimes = map[string]bool{iamd.FieldLastLoginAt: true, iamd.FieldLockedUntil: true}

// sparseIndexed are the columns whose indexes hold only the users who have a value
// (migration 0012): a user created without one touches no page of them. An equality with
// a value says so in the query, col <> ”, which is how the engines know the index holds
// every match.
var sparseIndexed = map[string]bool{iamd.FieldGivenName: true, iamd.FieldFamilyName: true, iamd.FieldOrganization: true}

// likeEscaper escapes LIKE's wildcards in a value that is to be matched literally.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// whereSQL compiles a validated Where into SQL over the users table aliased u, adding
// its parameters to args. Strings compared ignoring case are folded on both sides by the
// engine's lower(), except login names, whose folded key is stored (and indexed).
func whereSQL(w iamd.Where, args *[]any, ranges bool) string {
	switch w := w.(type) {
	case iamd.Match:
		return matchSQL(w, args, ranges)
	case iamd.Present:
		col := "u." + w.Field
		switch iamd.FilterFields[w.Field] {
		case iamd.KindString:
			return "(" + col + " <> '')"
		case iamd.KindTime:
			if nullableTimes[w.Field] {
				return "(" + col + " IS NOT NULL)"
			}
		}
		return "(1 = 1)"
	case iamd.AllOf, iamd.AnyOf:
		var parts []iamd.Where
		join, empty := " AND ", "(1 = 1)"
		if all, ok := w.(iamd.AllOf); ok {
			parts = all
		} else {
			parts, join, empty = w.(iamd.AnyOf), " OR ", "(1 = 0)"
		}
		if len(parts) == 0 {
			return empty
		}
		sqls := make([]string, len(parts))
		for i, p := range parts {
			sqls[i] = whereSQL(p, args, ranges)
		}
		return "(" + strings.Join(sqls, join) + ")"
	case iamd.Not:
		return "(NOT " + whereSQL(w.Where, args, ranges) + ")"
	case iamd.HasRole:
		in := inList(w.Roles, args)
		sql := "(EXISTS (SELECT 1 FROM user_roles ur WHERE ur.user_id = u.id AND ur.role IN (" + in + "))"
		if w.ThroughGroups {
			sql += " OR EXISTS (SELECT 1 FROM group_members m JOIN group_roles gr ON gr.instance_id = m.instance_id AND gr.group_id = m.group_id" +
				" WHERE m.user_id = u.id AND gr.role IN (" + inList(w.Roles, args) + "))"
		}
		return sql + ")"
	case iamd.HasPrivilege:
		in := inList(w.Privileges, args)
		return "(EXISTS (SELECT 1 FROM user_privileges up WHERE up.user_id = u.id AND up.privilege IN (" + in + "))" +
			" OR EXISTS (SELECT 1 FROM user_roles ur JOIN role_privileges rp ON rp.instance_id = u.instance_id AND rp.role = ur.role" +
			" WHERE ur.user_id = u.id AND rp.privilege IN (" + inList(w.Privileges, args) + ")))"
	}
	panic("sqlstore: an unvalidated Where") // ValidateWhere refuses every other type
}

// matchSQL compiles one comparison. With ranges (engines whose LIKE cannot seek an
// index of an expression, and whose text compares in byte order: SQLite), a prefix
// comparison also bounds the column to [prefix, prefix+U+10FFFF), which the index of the
// folded column seeks; the LIKE keeps the match exact.
func matchSQL(m iamd.Match, args *[]any, ranges bool) string {
	col := "u." + m.Field
	switch iamd.FilterFields[m.Field] {
	case iamd.KindTime:
		if m.Value == nil {
			if !nullableTimes[m.Field] {
				return map[bool]string{true: "(1 = 0)", false: "(1 = 1)"}[m.Op == iamd.MatchEq]
			}
			return "(" + col + map[bool]string{true: " IS NULL)", false: " IS NOT NULL)"}[m.Op == iamd.MatchEq]
		}
		*args = append(*args, micros(m.Value.(time.Time)))
		return "(" + col + " " + comparison(m.Op) + " ?)"
	case iamd.KindBool:
		if m.Value == nil { // a boolean always has a value
			return map[bool]string{true: "(1 = 0)", false: "(1 = 1)"}[m.Op == iamd.MatchEq]
		}
		*args = append(*args, m.Value.(bool))
		return "(" + col + " " + comparison(m.Op) + " ?)"
	}
	value, _ := m.Value.(string) // nil: the absent string
	left, right := col, "?"
	switch {
	case m.Field == iamd.FieldLoginName && !m.CaseExact:
		left, value = "u.login_key", iamd.LoginKey(value)
	case !m.CaseExact:
		left, right = "lower("+col+")", "lower(?)"
	}
	switch m.Op {
	case iamd.MatchCo, iamd.MatchSw, iamd.MatchEw:
		pattern := likeEscaper.Replace(value)
		if m.Op != iamd.MatchSw {
			pattern = "%" + pattern
		}
		if m.Op != iamd.MatchEw {
			pattern += "%"
		}
		*args = append(*args, pattern)
		like := "(" + left + " LIKE " + right + ` ESCAPE '\')`
		if ranges && m.Op == iamd.MatchSw && value != "" {
			*args = append(*args, value, value+"\U0010FFFF")
			like = "(" + like + " AND " + left + " >= " + right + " AND " + left + " < " + right + ")"
		}
		return like
	}
	*args = append(*args, value)
	if m.Op == iamd.MatchEq && value != "" && sparseIndexed[m.Field] {
		// Implied by the equality (lower() of a non-empty string is not empty).
		return "(" + left + " = " + right + " AND " + col + " <> '')"
	}
	return "(" + left + " " + comparison(m.Op) + " " + right + ")"
}

// inList adds values to args and returns their placeholders.
func inList(values []string, args *[]any) string {
	for _, v := range values {
		*args = append(*args, v)
	}
	return placeholders(len(values))
}

func comparison(op string) string {
	return map[string]string{iamd.MatchEq: "=", iamd.MatchNe: "<>", iamd.MatchGt: ">", iamd.MatchGe: ">=",
		iamd.MatchLt: "<", iamd.MatchLe: "<="}[op]
}
