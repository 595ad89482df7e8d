package sqlstore

import (
	"context"

	"iamd"
)

// importBatch rows go in one INSERT: 49 columns × 200 rows stays under both engines'
// limits on bound parameters.
const importBatch = 200

// ImportUsers inserts many complete users in one transaction with one audit event, for
// bulk loads (and the benchmarks' populations). A taken login name fails the whole import.
func (db *DB) ImportUsers(ctx context.Context, users []iamd.User, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if len(users) > 0 {
			if err := db.lockRights(ctx, tx, users[0].InstanceID, false); err != nil {
				return err
			}
		}
		for start := 0; start < len(users); start += importBatch {
			batch := users[start:min(start+importBatch, len(users))]
			rows := make([]byte, 0, len(batch)*150)
			args := make([]any, 0, len(batch)*userColumnCount)
			for i := range batch {
				if i > 0 {
					rows = append(rows, ", "...)
				}
				rows = append(rows, '(')
				rows = append(rows, placeholders(userColumnCount)...)
				rows = append(rows, ')')
				args = append(args, userArgs(&batch[i])...)
			}
			_, err := db.exec(ctx, tx, `INSERT INTO users (`+userColumns+`) VALUES `+string(rows), args...)
			if v, _ := db.dialect.Classify(err); v == UniqueViolation {
				return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldLoginName, Message: "A login name in the import is already taken."}
			} else if err != nil {
				return internal("import users", err)
			}
		}
		counts := map[string]int{}
		for i := range users {
			counts[users[i].InstanceID]++
		}
		for instanceID, n := range counts {
			if err := db.countUsers(ctx, tx, instanceID, n); err != nil {
				return err
			}
		}
		return db.insertEvent(ctx, tx, ev)
	})
}
