package iamd

import (
	"context"
	"time"
)

// Instance is a tenant: SCP's instance_id, an Ncloud account, an ECE platform, a
// VikingCloud tenant, a SCIM tenant. Everything else belongs to exactly one instance.
type Instance struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Validate checks an instance before it is stored.
func (i *Instance) Validate() error {
	if err := checkIdentifier(FieldInstanceID, i.ID, MaxIdentifierLen); err != nil {
		return err
	}
	return checkText(FieldName, i.Name, MaxNameLen)
}

// InstanceService manages tenants. Creating instances is a platform administrator's act.
type InstanceService interface {
	CreateInstance(ctx context.Context, inst *Instance) (*Instance, error)
	GetInstance(ctx context.Context, id string) (*Instance, error)
	ListInstances(ctx context.Context) ([]Instance, error)
}
