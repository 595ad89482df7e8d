package scp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"iamd"
)

// object is a request body decoded one level deep, so that absent, null and wrong types
// can be told apart per field.
type object map[string]json.RawMessage

// readObject reads a JSON object body and refuses fields not in allowed.
func readObject(r *http.Request, allowed []string) (object, error) {
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &iamd.Error{Code: iamd.ETOOLARGE, Message: fmt.Sprintf("The request body exceeds the limit of %d bytes.", tooLarge.Limit)}
	} else if err != nil {
		return nil, invalid("", "The request body could not be read.")
	}
	return decodeObject(body, allowed)
}

func decodeObject(body []byte, allowed []string) (object, error) {
	if !utf8.Valid(body) {
		return nil, &faceError{status: http.StatusBadRequest, code: CodeMalformedJSON, detail: "The request body must be UTF-8 encoded JSON."}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj object
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, &faceError{status: http.StatusBadRequest, code: CodeMalformedJSON, detail: "The request body must be a JSON object: " + jsonProblem(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &faceError{status: http.StatusBadRequest, code: CodeMalformedJSON, detail: "The request body must hold one JSON object and nothing after it."}
	}
	var unknown []string
	for k := range obj {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, invalid(unknown[0], fmt.Sprintf("Unknown field %q; allowed fields are %s.", unknown[0], strings.Join(allowed, ", ")))
	}
	return obj, nil
}

func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return "got null."
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax error at byte %d.", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("got a JSON %s.", typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short."
	}
	return "it could not be parsed."
}

// optString is a "string or null" field: set tells it was present, null that it was null.
type optString struct {
	set, null bool
	value     string
}

func (o object) string(field string) (optString, error) {
	raw, ok := o[field]
	if !ok {
		return optString{}, nil
	}
	if string(raw) == "null" {
		return optString{set: true, null: true}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return optString{}, invalid(field, fmt.Sprintf("%s must be a string or null.", field))
	}
	return optString{set: true, value: s}, nil
}

// required returns a field that must be present as a non-empty string.
func (o object) required(field string) (string, error) {
	s, err := o.string(field)
	if err != nil {
		return "", err
	}
	if !s.set || s.null || s.value == "" {
		return "", invalid(field, fmt.Sprintf("%s is required.", field))
	}
	return s.value, nil
}

func (o object) bool(field string, dflt bool) (bool, error) {
	raw, ok := o[field]
	if !ok || string(raw) == "null" {
		return dflt, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, invalid(field, fmt.Sprintf("%s must be true or false.", field))
	}
	return b, nil
}

func (o object) strings(field string) ([]string, error) {
	raw, ok := o[field]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, invalid(field, fmt.Sprintf("%s must be an array of strings.", field))
	}
	return list, nil
}

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

func decodeCreate(obj object) (*createRequest, error) {
	var req createRequest
	var err error
	u := &req.user
	if u.InstanceID, err = obj.required("instance_id"); err != nil {
		return nil, err
	}
	if u.LoginName, err = obj.required("user_id"); err != nil {
		return nil, err
	}
	if u.DisplayName, err = obj.required("name"); err != nil {
		return nil, err
	}
	for _, f := range userStrings {
		s, err := obj.string(f.wire)
		if err != nil {
			return nil, err
		}
		f.set(u, s.value)
	}
	pw, err := obj.string("password")
	if err != nil {
		return nil, err
	}
	req.opts.Password = pw.value
	if u.TemporaryPassword, err = obj.bool("temporary_password", true); err != nil {
		return nil, err
	}
	if req.opts.GroupIDs, err = obj.strings("group_ids"); err != nil {
		return nil, err
	}
	return &req, nil
}

// setRequest is a decoded UserSetRequest.
type setRequest struct {
	instanceID string
	update     iamd.UserUpdate
}

func decodeSet(obj object) (*setRequest, error) {
	var req setRequest
	var err error
	if req.instanceID, err = obj.required("instance_id"); err != nil {
		return nil, err
	}
	name, err := obj.string("name")
	if err != nil {
		return nil, err
	}
	if name.set {
		if name.value == "" {
			return nil, invalid("name", "name cannot be cleared.")
		}
		req.update.DisplayName = &name.value
	}
	for _, f := range userStrings {
		s, err := obj.string(f.wire)
		if err != nil {
			return nil, err
		}
		if s.set {
			v := s.value
			f.upd(&req.update, &v)
		}
	}
	return &req, nil
}
