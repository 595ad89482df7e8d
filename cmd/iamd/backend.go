package main

import (
	"context"
	"encoding/json"

	"iamd"
	"iamd/account"
	"iamd/directory"
	"iamd/face/native"
)

// backend is what the admin commands do: on the database itself as the operator (the
// break-glass path), or with --url through a running server's native API as the holder
// of --token, whose privileges the server's core checks.
type backend interface {
	CreateInstance(ctx context.Context, inst *iamd.Instance) (*iamd.Instance, error)
	ListInstances(ctx context.Context) ([]iamd.Instance, error)
	SetAccountPolicy(ctx context.Context, instanceID string, p iamd.AccountPolicy) error
	DeleteInstance(ctx context.Context, id string) error
	CreateGroup(ctx context.Context, g *iamd.Group) (*iamd.Group, error)
	// ListGroups calls each for every group of the instance.
	ListGroups(ctx context.Context, instanceID string, each func(iamd.Group)) error
	// ChangeUser makes change to the user of a login name.
	ChangeUser(ctx context.Context, instanceID, login string, change iamd.UserChange) (*iamd.User, error)
	CreateAccessKey(ctx context.Context, instanceID, login string, opts iamd.CredentialOptions) (*iamd.AccessKey, string, error)
	ListAccessKeys(ctx context.Context, instanceID, login string) ([]iamd.AccessKey, error)
	RevokeAccessKey(ctx context.Context, instanceID, accessKey string) error
	CreateRole(ctx context.Context, r *iamd.Role) (*iamd.Role, error)
	ListRoles(ctx context.Context, instanceID string) ([]iamd.Role, error)
	DeleteRole(ctx context.Context, instanceID, name string) error
	// ExportEvents writes the instance's events of f, newest first, each as its record
	// in the native API's shape.
	ExportEvents(ctx context.Context, f iamd.EventFilter, write func(record json.RawMessage) error) error
	Close() error
}

// localBackend acts on the database through the core, as the operator.
type localBackend struct {
	store     iamd.Store
	dataDir   string
	masterKey string // IAMD_MASTER_KEY, or "" for the data directory's key file
	accounts  *account.Service
	dir       *directory.Service
	// rolesEnsured is set once the built-in roles were brought up to date.
	rolesEnsured bool
}

func newLocalBackend(ctx context.Context, st storeFlags, masterKey string) (*localBackend, error) {
	store, err := st.open(ctx)
	if err != nil {
		return nil, err
	}
	return &localBackend{store: store, dataDir: st.dataDir, masterKey: masterKey, dir: directory.New(store)}, nil
}

// builtinRoles brings every instance's built-in roles up to date before a command that
// reads or grants roles, as a server does at start.
func (b *localBackend) builtinRoles(ctx context.Context) error {
	if b.rolesEnsured {
		return nil
	}
	b.rolesEnsured = true
	return b.dir.EnsureBuiltinRoles(adminContext(ctx))
}

func (b *localBackend) Close() error { return b.store.Close() }

// credentials returns the credential service, loading the master key (which seals
// access-key secrets) on first use: commands that touch no credential never need it.
func (b *localBackend) credentials() (*account.Service, error) {
	if b.accounts == nil {
		key, err := account.LoadMasterKey(b.dataDir, b.masterKey)
		if err != nil {
			return nil, err
		}
		b.accounts = account.New(b.store, key)
		b.dir = directory.New(b.store, directory.WithCredentials(b.accounts))
	}
	return b.accounts, nil
}

func (b *localBackend) CreateInstance(ctx context.Context, inst *iamd.Instance) (*iamd.Instance, error) {
	return b.dir.CreateInstance(adminContext(ctx), inst)
}

func (b *localBackend) ListInstances(ctx context.Context) ([]iamd.Instance, error) {
	return b.dir.ListInstances(adminContext(ctx))
}

func (b *localBackend) SetAccountPolicy(ctx context.Context, id string, p iamd.AccountPolicy) error {
	return b.dir.SetAccountPolicy(adminContext(ctx), id, p)
}

func (b *localBackend) DeleteInstance(ctx context.Context, id string) error {
	return b.dir.DeleteInstance(adminContext(ctx), id)
}

func (b *localBackend) CreateGroup(ctx context.Context, g *iamd.Group) (*iamd.Group, error) {
	return b.dir.CreateGroup(adminContext(ctx), g, iamd.GroupMembers{})
}

func (b *localBackend) ListGroups(ctx context.Context, instanceID string, each func(iamd.Group)) error {
	for offset := 0; ; {
		page, err := b.dir.ListGroups(adminContext(ctx), iamd.GroupFilter{InstanceID: instanceID, Offset: offset, Limit: iamd.MaxPageSize})
		if err != nil {
			return err
		}
		for _, g := range page.Groups {
			each(g)
		}
		offset += len(page.Groups)
		if len(page.Groups) == 0 || offset >= page.Total {
			return nil
		}
	}
}

func (b *localBackend) ChangeUser(ctx context.Context, instanceID, login string, change iamd.UserChange) (*iamd.User, error) {
	if _, err := b.credentials(); err != nil {
		return nil, err
	}
	if change.Roles != nil {
		if err := b.builtinRoles(ctx); err != nil {
			return nil, err
		}
	}
	return b.dir.ChangeUser(adminContext(ctx), instanceID, iamd.UserRef{LoginName: login}, func(*iamd.User) (*iamd.UserChange, error) {
		return &change, nil
	})
}

func (b *localBackend) userID(ctx context.Context, instanceID, login string) (string, error) {
	u, err := b.store.GetUserByLogin(ctx, instanceID, login)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

func (b *localBackend) CreateAccessKey(ctx context.Context, instanceID, login string, opts iamd.CredentialOptions) (*iamd.AccessKey, string, error) {
	acct, err := b.credentials()
	if err != nil {
		return nil, "", err
	}
	id, err := b.userID(ctx, instanceID, login)
	if err != nil {
		return nil, "", err
	}
	return acct.CreateAccessKey(adminContext(ctx), instanceID, id, opts)
}

func (b *localBackend) ListAccessKeys(ctx context.Context, instanceID, login string) ([]iamd.AccessKey, error) {
	acct, err := b.credentials()
	if err != nil {
		return nil, err
	}
	id, err := b.userID(ctx, instanceID, login)
	if err != nil {
		return nil, err
	}
	return acct.ListAccessKeys(adminContext(ctx), instanceID, id)
}

func (b *localBackend) RevokeAccessKey(ctx context.Context, instanceID, accessKey string) error {
	acct, err := b.credentials()
	if err != nil {
		return err
	}
	return acct.RevokeAccessKey(adminContext(ctx), instanceID, accessKey)
}

func (b *localBackend) CreateRole(ctx context.Context, r *iamd.Role) (*iamd.Role, error) {
	if err := b.builtinRoles(ctx); err != nil {
		return nil, err
	}
	return b.dir.CreateRole(adminContext(ctx), r)
}

func (b *localBackend) ListRoles(ctx context.Context, instanceID string) ([]iamd.Role, error) {
	if err := b.builtinRoles(ctx); err != nil {
		return nil, err
	}
	return b.dir.ListRoles(adminContext(ctx), instanceID)
}

func (b *localBackend) DeleteRole(ctx context.Context, instanceID, name string) error {
	if err := b.builtinRoles(ctx); err != nil {
		return err
	}
	return b.dir.DeleteRole(adminContext(ctx), instanceID, name)
}

func (b *localBackend) ExportEvents(ctx context.Context, f iamd.EventFilter, write func(json.RawMessage) error) error {
	ctx = adminContext(ctx)
	f.Limit = iamd.MaxPageSize
	for {
		events, err := b.dir.ListEvents(ctx, f)
		if err != nil {
			return err
		}
		logins, err := b.dir.ActorLogins(ctx, f.InstanceID, native.EventIDs(events))
		if err != nil {
			return err
		}
		for i := range events {
			line, err := json.Marshal(native.EventRecord(&events[i], logins))
			if err != nil {
				return err
			}
			if err := write(line); err != nil {
				return err
			}
		}
		if len(events) < f.Limit {
			return nil
		}
		f.Before = events[len(events)-1].ID
	}
}
