package wire

// This file reads request bodies that must be one JSON object, strictly: valid UTF-8,
// nothing after the object, no fields but the allowed ones, and each field of the JSON
// type asked for. Absent, null and present are told apart per field, which PATCH
// semantics need. Errors name the offending field; faces map them to their wire shapes.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// BodyError is a body that is not acceptable. Malformed bodies are not one JSON object
// at all; otherwise Field names the field at fault, as it is spelled on the wire.
type BodyError struct {
	Malformed bool
	Field     string
	Message   string
}

func (e *BodyError) Error() string { return e.Message }

func invalid(field, format string, args ...any) *BodyError {
	return &BodyError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func malformed(format string, args ...any) *BodyError {
	return &BodyError{Malformed: true, Message: fmt.Sprintf(format, args...)}
}

// Object is a body decoded one level deep.
type Object map[string]json.RawMessage

// ReadObject reads r's body (see ReadBody) as an Object with only allowed fields. A
// body over the limit is an iamd ETOOLARGE error; anything else is a *BodyError.
func ReadObject(r *http.Request, allowed []string) (Object, error) {
	body, err := ReadBody(r)
	if err != nil {
		return nil, err
	}
	return DecodeObject(body, allowed)
}

// DecodeObject parses body as an Object with only allowed fields.
func DecodeObject(body []byte, allowed []string) (Object, error) {
	if !utf8.Valid(body) {
		return nil, malformed("The request body must be UTF-8 encoded JSON.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj Object
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, malformed("The request body must be a JSON object: %s", problem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("The request body must hold one JSON object and nothing after it.")
	}
	var unknown []string
	for k := range obj {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, invalid(unknown[0], "Unknown field %q; allowed fields are %s.", unknown[0], strings.Join(allowed, ", "))
	}
	return obj, nil
}

func problem(err error) string {
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

// OptString is a "string or null" field: Set tells it was present, Null that it was null.
type OptString struct {
	Set, Null bool
	Value     string
}

// String reads a string-or-null field.
func (o Object) String(field string) (OptString, error) {
	raw, ok := o[field]
	if !ok {
		return OptString{}, nil
	}
	if string(raw) == "null" {
		return OptString{Set: true, Null: true}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return OptString{}, invalid(field, "%s must be a string or null.", field)
	}
	return OptString{Set: true, Value: s}, nil
}

// Required reads a field that must be present as a non-empty string.
func (o Object) Required(field string) (string, error) {
	s, err := o.String(field)
	if err != nil {
		return "", err
	}
	if !s.Set || s.Null || s.Value == "" {
		return "", invalid(field, "%s is required.", field)
	}
	return s.Value, nil
}

// Bool reads a boolean field; absent or null gives dflt.
func (o Object) Bool(field string, dflt bool) (bool, error) {
	raw, ok := o[field]
	if !ok || string(raw) == "null" {
		return dflt, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, invalid(field, "%s must be true or false.", field)
	}
	return b, nil
}

// Strings reads an array-of-strings field; absent or null gives nil.
func (o Object) Strings(field string) ([]string, error) {
	raw, ok := o[field]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, invalid(field, "%s must be an array of strings.", field)
	}
	return list, nil
}

// Within names a refusal of an object nested at path in a body by the field's whole
// path ("security.password"): a *BodyError's field, and its message where the message
// names the field first or quotes it. Other errors pass as they are.
func Within(path string, err error) error {
	var be *BodyError
	if !errors.As(err, &be) || be.Field == "" || path == "" {
		return err
	}
	whole := path + "." + be.Field
	msg := be.Message
	if rest, ok := strings.CutPrefix(msg, be.Field+" "); ok {
		msg = whole + " " + rest
	} else {
		msg = strings.Replace(msg, strconv.Quote(be.Field), strconv.Quote(whole), 1) // Unknown field "x"
	}
	return &BodyError{Malformed: be.Malformed, Field: whole, Message: msg}
}
