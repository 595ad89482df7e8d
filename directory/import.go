package directory

import (
	"context"
	"fmt"

	"iamd"
)

// ImportChunk is how many users one import transaction holds: large enough that commits
// do not dominate, small enough that a transaction stays short on a busy store.
const ImportChunk = 10_000

// ImportUsers creates many users at once (USER_WRITE), the fastest correct path for
// bulk loads: each user is validated and stamped as CreateUser does, then stored in
// chunks of ImportChunk, each one transaction with one audit event. Users carry no
// password or group here. Duplicate login names within the import are refused before
// anything is stored; one taken in the store fails its chunk (earlier chunks stay).
// progress, if not nil, is called after each chunk with the number stored so far.
func (s *Service) ImportUsers(ctx context.Context, instanceID string, in []iamd.User, progress func(done int)) ([]iamd.User, error) {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeUserWrite)
	if err != nil {
		return nil, err
	}
	if _, err := s.requireInstance(ctx, instanceID); err != nil {
		return nil, err
	}
	now := s.clock()
	users := make([]iamd.User, len(in))
	seen := make(map[string]int, len(in))
	for i := range in {
		users[i] = newUser(&in[i], instanceID, p, now)
		u := &users[i]
		if err := u.Validate(); err != nil {
			return nil, fmt.Errorf("user %d: %w", i, err)
		}
		key := iamd.LoginKey(u.LoginName)
		if j, dup := seen[key]; dup {
			return nil, &iamd.Error{Code: iamd.EINVALID, Field: iamd.FieldLoginName,
				Message: fmt.Sprintf("users %d and %d have the same login name %q", j, i, u.LoginName)}
		}
		seen[key] = i
	}
	for start := 0; start < len(users); start += ImportChunk {
		chunk := users[start:min(start+ImportChunk, len(users))]
		ev := s.event(ctx, p, instanceID, iamd.ActionUserImport, "user", "")
		ev.Reason = fmt.Sprintf("%d users", len(chunk))
		if err := s.store.ImportUsers(ctx, chunk, ev); err != nil {
			return users[:start], err
		}
		if progress != nil {
			progress(start + len(chunk))
		}
	}
	return users, nil
}
