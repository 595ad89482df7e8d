package scp

import (
	"iamd"
	"iamd/face/wire"
)

// userStrings are the optional string fields of the create and set requests, with the
// canonical field each one fills.
var userStrings = []struct {
	wire string
	set  func(*iamd.User, string)
	upd  func(*iamd.UserUpdate, *string)
}{
	{"business_unit", func(u *iamd.User, s string) { u.BusinessUnit = s }, func(p *iamd.UserUpdate, s *string) { p.BusinessUnit = s }},
	{"department", func(u *iamd.User, s string) { u.Department = s }, func(p *iamd.UserUpdate, s *string) { p.Department = s }},
	{"description", func(u *iamd.User, s string) { u.Description = s }, func(p *iamd.UserUpdate, s *string) { p.Description = s }},
	{"email", func(u *iamd.User, s string) { u.Email = s }, func(p *iamd.UserUpdate, s *string) { p.Email = s }},
	{"employee_id", func(u *iamd.User, s string) { u.EmployeeNumber = s }, func(p *iamd.UserUpdate, s *string) { p.EmployeeNumber = s }},
	{"manager", func(u *iamd.User, s string) { u.Manager = s }, func(p *iamd.UserUpdate, s *string) { p.Manager = s }},
	{"nation_id", func(u *iamd.User, s string) { u.PhoneCountryCode = s }, func(p *iamd.UserUpdate, s *string) { p.PhoneCountryCode = s }},
	{"phone_number", func(u *iamd.User, s string) { u.PhoneNumber = s }, func(p *iamd.UserUpdate, s *string) { p.PhoneNumber = s }},
	{"tz_id", func(u *iamd.User, s string) { u.TimeZone = s }, func(p *iamd.UserUpdate, s *string) { p.TimeZone = s }},
}

var createFields = []string{"business_unit", "department", "description", "email", "employee_id", "group_ids",
	"instance_id", "manager", "name", "nation_id", "password", "phone_number", "temporary_password", "tz_id", "user_id"}

var setFields = []string{"business_unit", "department", "description", "email", "employee_id", "instance_id",
	"manager", "name", "nation_id", "phone_number", "tz_id"}

// createRequest is a decoded UserCreateRequest.
type createRequest struct {
	user iamd.User
	opts iamd.CreateUserOptions
}

func decodeCreate(obj wire.Object) (*createRequest, error) {
	var req createRequest
	var err error
	u := &req.user
	if u.InstanceID, err = obj.Required("instance_id"); err != nil {
		return nil, err
	}
	if u.LoginName, err = obj.Required("user_id"); err != nil {
		return nil, err
	}
	if u.DisplayName, err = obj.Required("name"); err != nil {
		return nil, err
	}
	for _, f := range userStrings {
		s, err := obj.String(f.wire)
		if err != nil {
			return nil, err
		}
		f.set(u, s.Value)
	}
	pw, err := obj.String("password")
	if err != nil {
		return nil, err
	}
	req.opts.Password = pw.Value
	if u.TemporaryPassword, err = obj.Bool("temporary_password", true); err != nil {
		return nil, err
	}
	if req.opts.GroupIDs, err = obj.Strings("group_ids"); err != nil {
		return nil, err
	}
	return &req, nil
}

// setRequest is a decoded UserSetRequest.
type setRequest struct {
	instanceID string
	update     iamd.UserUpdate
}

func decodeSet(obj wire.Object) (*setRequest, error) {
	var req setRequest
	var err error
	if req.instanceID, err = obj.Required("instance_id"); err != nil {
		return nil, err
	}
	name, err := obj.String("name")
	if err != nil {
		return nil, err
	}
	if name.Set {
		if name.Value == "" {
			return nil, invalid("name", "name cannot be cleared.")
		}
		req.update.DisplayName = &name.Value
	}
	for _, f := range userStrings {
		s, err := obj.String(f.wire)
		if err != nil {
			return nil, err
		}
		if s.Set {
			v := s.Value
			f.upd(&req.update, &v)
		}
	}
	return &req, nil
}
