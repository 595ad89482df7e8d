package account

import (
	"context"
	"fmt"
	"regexp"

	"iamd"
)

// BootstrapConfig is what the operator chose for the first start; empty fields are generated.
type BootstrapConfig struct {
	DefaultInstance string // "" → "default"
	AdminPassword   string
	AdminAccessKey  string
	AdminSecretKey  string
	AdminAPIToken   string
}

// BootstrapResult tells what exists and what was generated now.
type BootstrapResult struct {
	InstanceID  string
	AdminUserID string
	// Generated holds only values made up during this call, by environment variable
	// name, so that they can be shown once.
	Generated map[string]string
}

// AdminLogin is the bootstrap administrator's login name.
const AdminLogin = "admin"

var accessKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,128}$`)

// minSecretLen is the shortest secret key or API token an operator may choose.
const minSecretLen = 16

// Bootstrap makes sure the default instance and its platform administrator exist, with
// an access key pair and an API token. It is idempotent, and safe when several replicas
// start at once on one database: whoever loses a race re-reads the winner's rows.
func (s *Service) Bootstrap(ctx context.Context, cfg BootstrapConfig) (*BootstrapResult, error) {
	if cfg.DefaultInstance == "" {
		cfg.DefaultInstance = "default"
	}
	if cfg.AdminAccessKey != "" && !accessKeyPattern.MatchString(cfg.AdminAccessKey) {
		return nil, fmt.Errorf("IAMD_ADMIN_ACCESS_KEY must be 8 to 128 letters, digits, '-' or '_'")
	}
	if (cfg.AdminAccessKey == "") != (cfg.AdminSecretKey == "") {
		return nil, fmt.Errorf("set both IAMD_ADMIN_ACCESS_KEY and IAMD_ADMIN_SECRET_KEY, or neither")
	}
	if cfg.AdminSecretKey != "" && len(cfg.AdminSecretKey) < minSecretLen {
		return nil, fmt.Errorf("IAMD_ADMIN_SECRET_KEY must be at least %d characters", minSecretLen)
	}
	if cfg.AdminAPIToken != "" && len(cfg.AdminAPIToken) < minSecretLen {
		return nil, fmt.Errorf("IAMD_ADMIN_API_TOKEN must be at least %d characters", minSecretLen)
	}
	res := &BootstrapResult{InstanceID: cfg.DefaultInstance, Generated: map[string]string{}}
	system := iamd.Event{ActorName: "iamd", Outcome: iamd.OutcomeSuccess, Source: "bootstrap", Face: iamd.FaceSystem}

	if _, err := s.store.GetInstance(ctx, cfg.DefaultInstance); iamd.ErrorCode(err) == iamd.ENOTFOUND {
		inst := &iamd.Instance{ID: cfg.DefaultInstance, Name: cfg.DefaultInstance, Policy: iamd.DefaultAccountPolicy, CreatedAt: s.clock()}
		if err := inst.Validate(); err != nil {
			return nil, fmt.Errorf("IAMD_DEFAULT_INSTANCE: %s", iamd.ErrorMessage(err))
		}
		ev := system
		ev.InstanceID, ev.Action, ev.TargetType, ev.TargetID, ev.Time = inst.ID, iamd.ActionInstanceCreate, "instance", inst.ID, inst.CreatedAt
		if err := s.store.CreateInstance(ctx, inst, ev); err != nil && iamd.ErrorCode(err) != iamd.ECONFLICT {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}

	admin, created, err := s.ensureAdmin(ctx, cfg, res, system)
	if err != nil {
		return nil, err
	}
	res.AdminUserID = admin.ID

	// Keys and tokens: a given one is added if it is not stored yet (so that an operator
	// can rotate through the environment); one is generated only for a new administrator.
	if cfg.AdminAccessKey != "" {
		if _, err := s.store.GetAccessKey(ctx, cfg.AdminAccessKey); iamd.ErrorCode(err) == iamd.ENOTFOUND {
			if _, err := s.storeAccessKey(ctx, admin.InstanceID, admin.ID, cfg.AdminAccessKey, cfg.AdminSecretKey, iamd.CredentialOptions{Description: "bootstrap"}, system); err != nil && iamd.ErrorCode(err) != iamd.ECONFLICT {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
	} else if created {
		id, secret := randomFrom(accessKeyLen, accessKeyAlphabet), randomFrom(secretLen, secretAlphabet)
		if _, err := s.storeAccessKey(ctx, admin.InstanceID, admin.ID, id, secret, iamd.CredentialOptions{Description: "bootstrap"}, system); err != nil {
			return nil, err
		}
		res.Generated["IAMD_ADMIN_ACCESS_KEY"], res.Generated["IAMD_ADMIN_SECRET_KEY"] = id, secret
	}
	token := cfg.AdminAPIToken
	if token == "" && created {
		token = tokenPrefix + randomFrom(secretLen, secretAlphabet)
		res.Generated["IAMD_ADMIN_API_TOKEN"] = token
	}
	if token != "" {
		if _, err := s.AuthenticateToken(ctx, token); iamd.ErrorCode(err) == iamd.EUNAUTHENTICATED {
			if _, err := s.storeAPIToken(ctx, admin.InstanceID, admin.ID, token, iamd.CredentialOptions{Description: "bootstrap"}, system); err != nil && iamd.ErrorCode(err) != iamd.ECONFLICT {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// ensureAdmin returns the administrator, creating it if absent; created tells which.
func (s *Service) ensureAdmin(ctx context.Context, cfg BootstrapConfig, res *BootstrapResult, system iamd.Event) (*iamd.User, bool, error) {
	admin, err := s.store.GetUserByLogin(ctx, cfg.DefaultInstance, AdminLogin)
	if err == nil {
		return admin, false, nil
	} else if iamd.ErrorCode(err) != iamd.ENOTFOUND {
		return nil, false, err
	}
	password := cfg.AdminPassword
	if password == "" {
		password = randomFrom(24, secretAlphabet)
	} else if err := CheckPassword(iamd.DefaultAccountPolicy, &iamd.User{}, password); err != nil {
		// The operator's choice is held to the policy's length and common-password rules
		// (the administrator's own name it may well contain: it is chosen, not guessed).
		return nil, false, fmt.Errorf("IAMD_ADMIN_PASSWORD: %s", iamd.ErrorMessage(err))
	}
	hash, err := s.hasher.Hash(password)
	if err != nil {
		return nil, false, err
	}
	now := s.clock()
	u := &iamd.User{
		ID: iamd.NewID(), InstanceID: cfg.DefaultInstance, LoginName: AdminLogin, DisplayName: "Administrator",
		Status: iamd.UserActive, Builtin: true, PlatformAdmin: true, PasswordHash: hash, PasswordChangedAt: &now,
		Privileges: iamd.AllPrivileges,
		CreatedAt:  now, CreatedByName: "iamd", UpdatedAt: now, UpdatedByName: "iamd", Version: 1,
	}
	ev := system
	ev.InstanceID, ev.Action, ev.TargetType, ev.TargetID, ev.Time = u.InstanceID, iamd.ActionUserCreate, "user", u.ID, now
	switch err := s.store.CreateUser(ctx, iamd.UserWrite{User: u, Event: ev}); iamd.ErrorCode(err) {
	case "":
		if cfg.AdminPassword == "" {
			res.Generated["IAMD_ADMIN_PASSWORD"] = password
		}
		return u, true, nil
	case iamd.ECONFLICT: // another replica bootstrapped first
		admin, err := s.store.GetUserByLogin(ctx, cfg.DefaultInstance, AdminLogin)
		return admin, false, err
	default:
		return nil, false, err
	}
}
