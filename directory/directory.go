// Package directory is the core of iamd: the rules every face shares. It validates,
// authorizes the caller on the target instance, stamps ids, times and actors, and
// hands each change to the store together with its audit event.
package directory

import (
	"context"
	"time"

	"iamd"
)

// Service implements iamd.UserService, iamd.SelfService's changes, iamd.GroupService,
// iamd.RoleService, iamd.InstanceService and iamd.EventService over an iamd.Store.
type Service struct {
	store iamd.Store
	now   func() time.Time
	creds Credentials
}

var (
	_ iamd.UserService     = (*Service)(nil)
	_ iamd.SelfService     = (*Service)(nil)
	_ iamd.TagService      = (*Service)(nil)
	_ iamd.BuiltinUsers    = (*Service)(nil)
	_ iamd.GroupService    = (*Service)(nil)
	_ iamd.RoleService     = (*Service)(nil)
	_ iamd.InstanceService = (*Service)(nil)
	_ iamd.EventService    = (*Service)(nil)
)

// Credentials is what the directory needs of the accounts core (account.Service) to set
// a password or MFA as part of a change to a user.
type Credentials interface {
	// NewPasswordHash holds pw to policy for u, as it will be after the change, and to
	// u's password history, and hashes it.
	NewPasswordHash(ctx context.Context, policy iamd.AccountPolicy, u *iamd.User, pw string) (string, error)
	// CheckImportedHash tells whether a hash made elsewhere can be verified here.
	CheckImportedHash(hash string) error
	// SealTOTPSecret seals a user's TOTP secret under the master key.
	SealTOTPSecret(userID string, secret []byte) ([]byte, error)
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithCredentials lets changes set passwords and MFA through c. Without it they are
// refused: a directory opened for instances and groups alone needs no master key.
func WithCredentials(c Credentials) Option { return func(s *Service) { s.creds = c } }

// New returns the directory service over store.
func New(store iamd.Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// clock returns the current time at the precision every store keeps (microseconds), so
// what a create returns equals what a later read returns.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// requireInstance answers ENOTFOUND naming the instance when it does not exist, so that
// a platform administrator's typo is not mistaken for an empty instance.
func (s *Service) requireInstance(ctx context.Context, instanceID string) (*iamd.Instance, error) {
	if instanceID == "" {
		return nil, iamd.Invalid(iamd.FieldInstanceID, "instance_id is required")
	}
	return s.store.GetInstance(ctx, instanceID)
}

func notFound(kind, id string) error {
	return iamd.Errorf(iamd.ENOTFOUND, "No %s with id %q.", kind, id)
}

// event starts the audit record of a change by p.
func (s *Service) event(ctx context.Context, p *iamd.Principal, instanceID, action, targetType, targetID string) iamd.Event {
	return iamd.Event{
		InstanceID: instanceID,
		ActorID:    p.UserID,
		ActorName:  p.Name,
		Action:     action,
		TargetType: targetType,
		TargetID:   targetID,
		Outcome:    iamd.OutcomeSuccess,
		Source:     iamd.SourceFromContext(ctx),
		Face:       iamd.FaceFromContext(ctx),
		Time:       s.clock(),
	}
}
