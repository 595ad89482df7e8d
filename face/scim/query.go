package scim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"iamd"
)

// Schema URNs of the resources this face serves.
const (
	SchemaUser       = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// listsSchema tells whether schemas holds urn; URNs compare ignoring case (RFC 8141).
func listsSchema(schemas []string, urn string) bool {
	return slices.ContainsFunc(schemas, func(s string) bool { return strings.EqualFold(s, urn) })
}

// userAttr is how a SCIM User attribute maps onto a canonical field for filtering.
type userAttr struct {
	field     string
	caseExact bool // RFC 7643's caseExact: false compares ignoring case
	kind      string
}

const (
	kindString   = "string"
	kindDateTime = "dateTime"
	kindActive   = "active" // SCIM's active is the core's status
	kindName     = "name"   // the complex name: present when any part is
)

// userAttrs maps lower-cased SCIM attribute paths (schema-less: core and enterprise
// names do not collide) to canonical fields. Filters see the one email and phone number
// the canonical record holds (its primary, or work, value), as of type "work": the
// further values SCIM keeps beside it (document.go) are not in any column, so
// emails.value and emails are the same field and a filter cannot reach the others;
// nor can it reach name.formatted, kept beside the record as written.
var userAttrs = map[string]userAttr{
	"id":                   {iamd.FieldID, true, kindString},
	"externalid":           {iamd.FieldExternalID, true, kindString},
	"username":             {iamd.FieldLoginName, false, kindString},
	"displayname":          {iamd.FieldDisplayName, false, kindString},
	"name":                 {"", false, kindName},
	"name.givenname":       {iamd.FieldGivenName, false, kindString},
	"name.familyname":      {iamd.FieldFamilyName, false, kindString},
	"emails":               {iamd.FieldEmail, false, kindString},
	"emails.value":         {iamd.FieldEmail, false, kindString},
	"phonenumbers":         {iamd.FieldPhoneNumber, false, kindString},
	"phonenumbers.value":   {iamd.FieldPhoneNumber, false, kindString},
	"locale":               {iamd.FieldLocale, false, kindString},
	"timezone":             {iamd.FieldTimeZone, false, kindString},
	"active":               {iamd.FieldStatus, false, kindActive},
	"meta.created":         {iamd.FieldCreatedAt, false, kindDateTime},
	"meta.lastmodified":    {iamd.FieldUpdatedAt, false, kindDateTime},
	"employeenumber":       {iamd.FieldEmployeeNumber, false, kindString},
	"department":           {iamd.FieldDepartment, false, kindString},
	"division":             {iamd.FieldBusinessUnit, false, kindString},
	"organization":         {iamd.FieldOrganization, false, kindString},
	"manager":              {iamd.FieldManager, false, kindString},
	"manager.value":        {iamd.FieldManager, false, kindString},
	"emails.type":          {"", false, "type"}, // every value is of type work
	"phonenumbers.type":    {"", false, "type"},
	"emails.primary":       {"", false, "primary"}, // the one value is primary
	"phonenumbers.primary": {"", false, "primary"},
}

// valueType is the type of the one value of each multi-valued attribute.
const valueType = "work"

// UserWhere translates a parsed filter on Users into a condition the stores run.
// Attributes it cannot filter on, and comparisons that do not suit an attribute's type,
// are invalid filters.
func UserWhere(f Filter) (iamd.Where, error) {
	return userWhere(f, "")
}

func userWhere(f Filter, parent string) (iamd.Where, error) {
	switch f := f.(type) {
	case *Logical:
		l, err := userWhere(f.Left, parent)
		if err != nil {
			return nil, err
		}
		r, err := userWhere(f.Right, parent)
		if err != nil {
			return nil, err
		}
		if f.Op == "and" {
			return iamd.AllOf{l, r}, nil
		}
		return iamd.AnyOf{l, r}, nil
	case *Not:
		inner, err := userWhere(f.Filter, parent)
		if err != nil {
			return nil, err
		}
		return iamd.Not{Where: inner}, nil
	case *ValuePath:
		// emails[type eq "work" and value co "@example.com"]: the inner paths are
		// sub-attributes of the outer one.
		return userWhere(f.Filter, f.Attr.Name)
	case *Present:
		a, err := lookupAttr(f.Attr, parent)
		if err != nil {
			return nil, err
		}
		switch a.kind {
		case "type", "primary", kindActive:
			return iamd.AllOf{}, nil // always present
		case kindName:
			return iamd.AnyOf{iamd.Present{Field: iamd.FieldDisplayName}, iamd.Present{Field: iamd.FieldGivenName},
				iamd.Present{Field: iamd.FieldFamilyName}}, nil
		}
		return iamd.Present{Field: a.field}, nil
	case *Compare:
		a, err := lookupAttr(f.Attr, parent)
		if err != nil {
			return nil, err
		}
		return compareWhere(a, f)
	}
	return nil, &FilterError{0, fmt.Sprintf("unsupported expression %T", f)}
}

// sensitiveAttr is the one attribute a filter must never carry: a password in a URI
// would sit in every proxy's and server's access log.
const sensitiveAttr = "password"

// filtersSensitive tells whether f compares or tests the password anywhere.
func filtersSensitive(f Filter) bool {
	switch f := f.(type) {
	case *Logical:
		return filtersSensitive(f.Left) || filtersSensitive(f.Right)
	case *Not:
		return filtersSensitive(f.Filter)
	case *ValuePath:
		return strings.EqualFold(f.Attr.Name, sensitiveAttr) || filtersSensitive(f.Filter)
	case *Present:
		return strings.EqualFold(f.Attr.Name, sensitiveAttr)
	case *Compare:
		return strings.EqualFold(f.Attr.Name, sensitiveAttr)
	}
	return false
}

func lookupAttr(p AttrPath, parent string) (userAttr, error) {
	if p.URN != "" && !strings.EqualFold(p.URN, SchemaUser) && !strings.EqualFold(p.URN, SchemaEnterprise) {
		return userAttr{}, &FilterError{0, fmt.Sprintf("unknown schema %q", p.URN)}
	}
	name := p.Name
	if p.Sub != "" {
		name += "." + p.Sub
	}
	if parent != "" {
		if p.Sub != "" {
			return userAttr{}, &FilterError{0, fmt.Sprintf("%s.%s is not a sub-attribute", parent, name)}
		}
		name = parent + "." + name
	}
	a, ok := userAttrs[strings.ToLower(name)]
	if strings.EqualFold(name, sensitiveAttr) {
		return userAttr{}, &FilterError{0, "password is write-only: no filter can compare it"}
	}
	if !ok {
		return userAttr{}, &FilterError{0, fmt.Sprintf("cannot filter on %q", name)}
	}
	return a, nil
}

var always, never = iamd.AllOf{}, iamd.AnyOf{}

// kindWords says what kind of attribute a filter compared, as RFC 7643 types it.
var kindWords = map[string]string{kindString: "a string attribute", kindDateTime: "a dateTime attribute",
	kindActive: "a boolean attribute", kindName: "a complex attribute", "type": "a string sub-attribute",
	"primary": "a boolean sub-attribute"}

func compareWhere(a userAttr, c *Compare) (iamd.Where, error) {
	bad := func() error {
		return &FilterError{0, fmt.Sprintf("%s %s %v does not suit %s", c.Attr, c.Op, c.Value, kindWords[a.kind])}
	}
	switch a.kind {
	case "type":
		s, ok := c.Value.(string)
		if !ok || (c.Op != OpEq && c.Op != OpNe) {
			return nil, bad()
		}
		if strings.EqualFold(s, valueType) == (c.Op == OpEq) {
			return always, nil
		}
		return never, nil
	case "primary":
		b, ok := c.Value.(bool)
		if !ok || (c.Op != OpEq && c.Op != OpNe) {
			return nil, bad()
		}
		if b == (c.Op == OpEq) {
			return always, nil
		}
		return never, nil
	case kindActive:
		b, ok := c.Value.(bool)
		if !ok || (c.Op != OpEq && c.Op != OpNe) {
			return nil, bad()
		}
		op := iamd.MatchEq
		if b != (c.Op == OpEq) {
			op = iamd.MatchNe
		}
		return iamd.Match{Field: iamd.FieldStatus, Op: op, Value: string(iamd.UserActive), CaseExact: true}, nil
	case kindName:
		return nil, bad() // a complex attribute is compared through its sub-attributes
	case kindDateTime:
		if c.Value == nil {
			return iamd.Match{Field: a.field, Op: c.Op, Value: nil}, nil
		}
		s, ok := c.Value.(string)
		at, err := time.Parse(time.RFC3339Nano, s)
		if !ok || err != nil || c.Op == OpCo || c.Op == OpSw || c.Op == OpEw {
			return nil, bad()
		}
		return iamd.Match{Field: a.field, Op: c.Op, Value: at}, nil
	}
	switch v := c.Value.(type) {
	case nil:
		if c.Op != OpEq && c.Op != OpNe {
			return nil, bad()
		}
		return iamd.Match{Field: a.field, Op: c.Op, Value: nil}, nil
	case string:
		return iamd.Match{Field: a.field, Op: c.Op, Value: v, CaseExact: a.caseExact}, nil
	}
	return nil, bad() // numbers and booleans: no string attribute holds one
}
