package account

import (
	"context"
	"time"

	"iamd"
)

func (s *Service) verifySecondFactor(ctx context.Context, u *iamd.User, in iamd.SignIn, now time.Time) error {
	return iamd.Errorf(iamd.EUNAUTHENTICATED, "MFA is not implemented yet")
}
