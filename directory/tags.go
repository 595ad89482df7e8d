package directory

import (
	"context"

	"iamd"
)

// ListUserTags returns a user's tags (USER_READ).
func (s *Service) ListUserTags(ctx context.Context, instanceID, userID string) ([]iamd.Tag, error) {
	if _, err := authorize(ctx, instanceID, iamd.PrivilegeUserRead); err != nil {
		return nil, err
	}
	return s.store.ListUserTags(ctx, instanceID, userID)
}

// PutUserTags sets tags on a user (USER_WRITE, covering the user): keys of 1 to 128
// characters, values of up to 255, at most MaxTagsPerUser in all; a key given twice
// keeps its last value.
func (s *Service) PutUserTags(ctx context.Context, instanceID, userID string, tags []iamd.Tag) error {
	p, err := s.authorizeOnUser(ctx, instanceID, userID)
	if err != nil {
		return err
	}
	if len(tags) == 0 || len(tags) > iamd.MaxTagsPerUser {
		return iamd.Invalid(iamd.FieldTags, "name 1 to %d tags", iamd.MaxTagsPerUser)
	}
	for _, t := range tags {
		if t.Key == "" {
			return iamd.Invalid(iamd.FieldTags, "a tag key cannot be empty")
		}
		if err := iamd.CheckText(iamd.FieldTags, t.Key, iamd.MaxNameLen); err != nil {
			return err
		}
		if err := iamd.CheckText(iamd.FieldTags, t.Value, iamd.MaxTextLen); err != nil {
			return err
		}
	}
	return s.store.PutUserTags(ctx, instanceID, userID, tags, s.event(ctx, p, instanceID, iamd.ActionUserTag, "user", userID))
}

// DeleteUserTags removes tags from a user by key (USER_WRITE, covering the user).
func (s *Service) DeleteUserTags(ctx context.Context, instanceID, userID string, keys []string) error {
	p, err := s.authorizeOnUser(ctx, instanceID, userID)
	if err != nil {
		return err
	}
	if len(keys) == 0 || len(keys) > iamd.MaxTagsPerUser {
		return iamd.Invalid(iamd.FieldTags, "name 1 to %d tag keys", iamd.MaxTagsPerUser)
	}
	return s.store.DeleteUserTags(ctx, instanceID, userID, dedupe(keys), s.event(ctx, p, instanceID, iamd.ActionUserUntag, "user", userID))
}

// authorizeOnUser returns the caller if it holds USER_WRITE on the instance and covers
// the user, whose record must be the API's to change.
func (s *Service) authorizeOnUser(ctx context.Context, instanceID, userID string) (*iamd.Principal, error) {
	p, err := authorize(ctx, instanceID, iamd.PrivilegeUserWrite)
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetUserRow(ctx, instanceID, userID)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeOn(ctx, p, u); err != nil {
		return nil, err
	}
	if !p.Operator {
		if err := protectedRecord(u); err != nil {
			return nil, err
		}
	}
	return p, nil
}
