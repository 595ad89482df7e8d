// Package directory is the core of iamd: the rules every face shares. It validates,
// authorizes the caller on the target instance, stamps ids, times and actors, and
// hands each change to the store together with its audit event.
package directory

import (
	"context"
	"time"

	"iamd"
	"iamd/account"
)

// Service implements iamd.UserService, iamd.GroupService, iamd.InstanceService and
// iamd.EventService over an iamd.Store.
type Service struct {
	store        iamd.Store
	now          func() time.Time
	hashPassword func(string) (string, error)
}

var (
	_ iamd.UserService     = (*Service)(nil)
	_ iamd.GroupService    = (*Service)(nil)
	_ iamd.InstanceService = (*Service)(nil)
	_ iamd.EventService    = (*Service)(nil)
)

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithPasswordHasher sets how clear-text passwords given at creation are hashed.
func WithPasswordHasher(hash func(string) (string, error)) Option {
	return func(s *Service) { s.hashPassword = hash }
}

// New returns the directory service over store.
func New(store iamd.Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, hashPassword: account.HashPassword}
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

// authorize returns the caller if it holds privilege on instanceID.
func authorize(ctx context.Context, instanceID, privilege string) (*iamd.Principal, error) {
	p, err := iamd.Authorize(ctx, instanceID, privilege)
	if err != nil {
		return nil, err
	}
	return p, nil
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
		Time:       s.clock(),
	}
}
