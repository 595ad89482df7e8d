package vikingcloud

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"iamd/face/wire"

	"iamd"
)

type searchIn struct {
	OrgID                *string  `json:"orgId"`
	OrgIDs               []string `json:"orgIds"`
	Enabled              *bool    `json:"enabled"`
	Locked               *bool    `json:"locked"`
	Expired              *bool    `json:"expired"`
	CredentialsExpired   *bool    `json:"credentialsExpired"`
	UsingMfa             *bool    `json:"usingMfa"`
	LastName             *string  `json:"lastName"`
	FirstName            *string  `json:"firstName"`
	Roles                []string `json:"roles"`
	Privileges           []string `json:"privileges"`
	PrivilegeRoles       []string `json:"privilegeRoles"`
	Username             *string  `json:"username"`
	Email                *string  `json:"email"`
	Basic                *string  `json:"basic"`
	Authenticator        *string  `json:"authenticator"`
	Authenticators       []string `json:"authenticators"`
	AuthenticatorInclude *bool    `json:"authenticatorInclude"`
	StartTimestamp       *string  `json:"startTimestamp"`
	EndTimestamp         *string  `json:"endTimestamp"`
}

const (
	defaultPageSize = 20
	maxPageSize     = 100
)

func eq(field, value string, caseExact bool) iamd.Where {
	return iamd.Match{Field: field, Op: iamd.MatchEq, Value: value, CaseExact: caseExact}
}

func is(field string, value bool) iamd.Where {
	return iamd.Match{Field: field, Op: iamd.MatchEq, Value: value}
}

// where ANDs every criterion given. Names compare ignoring case; orgId as written.
// basic is free text, found in the username, first or last name, email or orgId.
// roles are direct grants; privilegeRoles count roles held through groups too;
// privileges count direct ones and those of direct roles. The timestamps bound the last
// successful sign-in.
func (s *searchIn) where(now time.Time) (iamd.AllOf, error) {
	all := iamd.AllOf{}
	if s.OrgID != nil {
		all = append(all, eq(iamd.FieldOrganization, *s.OrgID, true))
	}
	if len(s.OrgIDs) > 0 {
		var any iamd.AnyOf
		for _, o := range s.OrgIDs {
			any = append(any, eq(iamd.FieldOrganization, o, true))
		}
		all = append(all, any)
	}
	if s.Enabled != nil {
		status := iamd.UserSuspended
		if *s.Enabled {
			status = iamd.UserActive
		}
		all = append(all, eq(iamd.FieldStatus, string(status), true))
	}
	if s.Locked != nil {
		locked := iamd.Match{Field: iamd.FieldLockedUntil, Op: iamd.MatchGt, Value: now}
		if *s.Locked {
			all = append(all, locked)
		} else {
			all = append(all, iamd.Not{Where: locked})
		}
	}
	for field, v := range map[string]*bool{iamd.FieldExpired: s.Expired, iamd.FieldCredentialsExpired: s.CredentialsExpired,
		iamd.FieldMFAEnabled: s.UsingMfa} {
		if v != nil {
			all = append(all, is(field, *v))
		}
	}
	for field, v := range map[string]*string{iamd.FieldFamilyName: s.LastName, iamd.FieldGivenName: s.FirstName,
		iamd.FieldLoginName: s.Username, iamd.FieldEmail: s.Email} {
		if v != nil {
			all = append(all, eq(field, *v, false))
		}
	}
	if s.Basic != nil && *s.Basic != "" {
		var any iamd.AnyOf
		for _, field := range []string{iamd.FieldLoginName, iamd.FieldGivenName, iamd.FieldFamilyName, iamd.FieldEmail, iamd.FieldOrganization} {
			any = append(any, iamd.Match{Field: field, Op: iamd.MatchCo, Value: *s.Basic})
		}
		all = append(all, any)
	}
	if len(s.Roles) > 0 {
		all = append(all, iamd.HasRole{Roles: s.Roles})
	}
	if len(s.PrivilegeRoles) > 0 {
		all = append(all, iamd.HasRole{Roles: s.PrivilegeRoles, ThroughGroups: true})
	}
	if len(s.Privileges) > 0 {
		all = append(all, iamd.HasPrivilege{Privileges: s.Privileges})
	}
	authenticators, fields := s.Authenticators, slices.Repeat([]string{"authenticators"}, len(s.Authenticators))
	if s.Authenticator != nil {
		authenticators, fields = append(authenticators, *s.Authenticator), append(fields, "authenticator")
	}
	if len(authenticators) > 0 {
		var any iamd.AnyOf
		for i, a := range authenticators {
			if a != authLocal && a != authSSO {
				return nil, badRequest(fmt.Sprintf("Field %q: unknown authenticator %q (local or sso)", fields[i], a))
			}
			any = append(any, is(iamd.FieldSSO, a == authSSO))
		}
		if s.AuthenticatorInclude != nil && !*s.AuthenticatorInclude {
			all = append(all, iamd.Not{Where: any})
		} else {
			all = append(all, any)
		}
	}
	for _, bound := range []struct {
		field string
		value *string
		op    string
	}{{"startTimestamp", s.StartTimestamp, iamd.MatchGe}, {"endTimestamp", s.EndTimestamp, iamd.MatchLe}} {
		if bound.value == nil {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, *bound.value)
		if err != nil {
			return nil, badRequest(fmt.Sprintf("Field %q must be a date-time like 2019-08-24T14:15:22Z", bound.field))
		}
		all = append(all, iamd.Match{Field: iamd.FieldLastLoginAt, Op: bound.op, Value: at.UTC()})
	}
	return all, nil
}

// pages are Spring's Pageable parameters: page from 0, size from 1.
var pages = wire.Paging{DefaultSize: defaultPageSize, MaxSize: maxPageSize}

// searchUsers answers the users every criterion matches, a page at a time (page from 0,
// size up to 100, as Spring's Pageable takes them), by username.
func (f *Face) searchUsers(w http.ResponseWriter, r *http.Request) {
	var in searchIn
	if err := decode(r, &in); err != nil {
		f.WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	offset, _, size, err := pages.Read(q.Get("page"), q.Get("size"))
	var pe *wire.PageError
	if errors.As(err, &pe) {
		f.WriteError(w, r, badRequest(fmt.Sprintf("Parameter %q must be a number (page from 0, size 1 to %d, page × size under 2³¹).", pe.Param, maxPageSize)))
		return
	}
	where, err := in.where(f.cfg.Now())
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	inst := iamd.PrincipalFromContext(r.Context()).InstanceID
	res, err := f.dir.ListUsers(r.Context(), iamd.UserFilter{InstanceID: inst, Where: where, Offset: offset, Limit: size,
		Sort: []iamd.UserSort{{Key: iamd.SortByLoginName}}, WithRoles: true})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	defs, err := f.roleDefinitions(r, inst)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	ids := make([]string, len(res.Users))
	for i := range res.Users {
		ids[i] = res.Users[i].ID
	}
	grants, err := f.dir.EffectiveGrantsOf(r.Context(), inst, ids) // the page's, at once
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := make([]userOut, 0, len(res.Users))
	for i := range res.Users {
		out = append(out, f.wireUser(&res.Users[i], defs, grants[res.Users[i].ID]))
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(res.Total))
	writeJSON(w, http.StatusOK, out)
}
