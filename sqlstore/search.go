package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"iamd"
)

// searchCap is how many matches of one field a search reads and sorts itself; past it,
// the field's matches are found by walking the login order instead. Either way a page
// reads at most some thousands of index entries, at any size of directory: a field with
// more than searchCap matches among N users meets a page's worth of them within about
// N·limit/searchCap entries of the login order.
const searchCap = 2000

// searchField is one column a prefix search compares.
type searchField struct {
	column string // the compared (folded) column
	login  bool   // the login key, whose own index is the listing's order
	email  bool
}

// searchFields are the columns a prefix search compares. Emails only when the prefix has
// an @: an email that begins as its login name does is found by the login name already,
// and such emails are what a common prefix finds late in the login order, where the
// walk for them would cost a read of most of the directory.
var searchFields = []searchField{{column: "u.login_key", login: true}, {column: "lower(u.email)", email: true},
	{column: "lower(u.display_name)"}}

// searchUsers answers a prefix search (f.Prefix) in login order without a count: for
// each field, the first limit matches in login order, merged. A field whose prefix has
// few matches (at most searchCap) gives them all, read through its own index; one with
// more is read along the login index, where matches are dense. The login name's own
// range is already in login order.
func (db *DB) searchUsers(ctx context.Context, f iamd.UserFilter, cond string, args []any, limit int) (*iamd.UserPage, error) {
	page := &iamd.UserPage{Users: []iamd.User{}}
	view := db.begin(ctx)
	err := db.inSnapshotOn(ctx, db.readFor(f.MayLag), func(tx *txn) error {
		type hit struct{ id, key string }
		var hits []hit
		read := func(query string, qargs ...any) error {
			rows, err := db.query(ctx, tx, query, qargs...)
			if err != nil {
				return internal("search users", err)
			}
			defer rows.Close()
			for rows.Next() {
				var h hit
				if err := rows.Scan(&h.id, &h.key); err != nil {
					return internal("search users", err)
				}
				hits = append(hits, h)
			}
			return rows.Err()
		}
		for _, field := range searchFields {
			if field.email && !strings.Contains(f.Prefix, "@") {
				continue
			}
			match, margs := db.prefixMatch(field, f.Prefix)
			where := cond + " AND " + match
			all := append(append([]any{}, args...), margs...)
			if !field.login {
				var n int
				if err := db.queryRow(ctx, tx, `SELECT count(*) FROM (SELECT 1 FROM users u WHERE `+where+` LIMIT ?) s`,
					append(all, searchCap+1)...).Scan(&n); err != nil {
					return internal("search users", err)
				}
				if n <= searchCap {
					if err := read(`SELECT u.id, u.login_key FROM users u WHERE `+where, all...); err != nil {
						return err
					}
					continue
				}
				// Dense: along the login order, the field's own index set aside.
				match, margs = db.prefixMatch(searchField{column: db.dialect.NoIndex + field.column}, f.Prefix)
				where = cond + " AND " + match
				all = append(append([]any{}, args...), margs...)
			}
			if err := read(`SELECT u.id, u.login_key FROM users u WHERE `+where+` ORDER BY u.login_key LIMIT ?`, append(all, limit)...); err != nil {
				return err
			}
		}
		slices.SortFunc(hits, func(a, b hit) int { return cmp.Compare(a.key, b.key) })
		hits = slices.CompactFunc(hits, func(a, b hit) bool { return a.id == b.id })
		ids := make([]string, 0, min(limit, len(hits)))
		for _, h := range hits[:min(limit, len(hits))] {
			ids = append(ids, h.id)
		}
		users, err := db.listedByID(ctx, tx, view, f, ids)
		page.Users = users
		return err
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// prefixMatch is the condition that column starts with prefix, ignoring case, and its
// arguments: a range of the folded column where the engine's text compares in byte
// order (SQLite: what its indexes of expressions can seek), LIKE where a trigram index
// serves it (PostgreSQL); the LIKE always, for exactness.
func (db *DB) prefixMatch(field searchField, prefix string) (string, []any) {
	value, right := prefix, "lower(?)"
	if field.login {
		value, right = iamd.LoginKey(prefix), "?"
	}
	pattern := likeEscaper.Replace(value) + "%"
	like := "(" + field.column + " LIKE " + right + ` ESCAPE '\')`
	if !db.dialect.PrefixRanges && !field.login {
		return like, []any{pattern}
	}
	return "(" + like + " AND " + field.column + " >= " + right + " AND " + field.column + " < " + right + ")",
		[]any{pattern, value, value + "\U0010FFFF"}
}

// listedByID reads the users of ids, in that order, as a listing with filter f shows
// them: from the read memory where it holds them.
func (db *DB) listedByID(ctx context.Context, tx *txn, view readView, f iamd.UserFilter, ids []string) ([]iamd.User, error) {
	if len(ids) == 0 {
		return []iamd.User{}, nil
	}
	if db.cache.still(ctx, view) {
		return db.usersFromMemory(ctx, tx, view, f, ids)
	}
	args := make([]any, len(ids))
	at := make(map[string]int, len(ids))
	for i, id := range ids {
		args[i], at[id] = id, i
	}
	rows, err := db.query(ctx, tx, `SELECT `+userColumns+` FROM users WHERE id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, internal("search users", err)
	}
	defer rows.Close()
	users := make([]iamd.User, len(ids))
	n := 0
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, internal("scan user", err)
		}
		users[at[u.ID]] = *u
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, internal("search users", err)
	}
	if n != len(ids) {
		return nil, internal("search users", fmt.Errorf("%d of %d found users read", n, len(ids)))
	}
	return users, db.fillListed(ctx, tx, f, users)
}
