package iamd

import (
	"fmt"
	"time"
)

// Where is a condition on users that a store evaluates in its database: SCIM's
// filters, once the SCIM face has mapped their attributes onto canonical fields, are
// Wheres. Build it from Match, Present, AllOf, AnyOf and Not.
type Where interface{ where() }

// Comparison operators of a Match, as SCIM names them.
const (
	MatchEq = "eq" // equal
	MatchNe = "ne" // not equal
	MatchCo = "co" // contains
	MatchSw = "sw" // starts with
	MatchEw = "ew" // ends with
	MatchGt = "gt"
	MatchGe = "ge"
	MatchLt = "lt"
	MatchLe = "le"
)

// Match compares a field with a value. Value is a string, a bool or a time.Time as the
// field's kind wants, or nil: "eq nil" matches an absent value and "ne nil" a present one.
type Match struct {
	Field     string // one of FilterFields
	Op        string
	Value     any
	CaseExact bool // strings only: compare as written instead of ignoring case
}

// Present matches users who have a value for Field.
type Present struct{ Field string }

// AllOf matches users every condition matches; AnyOf, users one of them matches.
type (
	AllOf []Where
	AnyOf []Where
)

// Not matches users its condition does not.
type Not struct{ Where Where }

// HasRole holds for users granted one of Roles: directly, or with ThroughGroups also
// through a group they are a direct member of.
type HasRole struct {
	Roles         []string
	ThroughGroups bool
}

// HasPrivilege holds for users granted one of Privileges directly or through one of
// their direct roles.
type HasPrivilege struct{ Privileges []string }

func (Match) where()   {}
func (Present) where() {}
func (AllOf) where()   {}
func (AnyOf) where()   {}
func (Not) where()     {}

func (HasRole) where()      {}
func (HasPrivilege) where() {}

// FieldKind is the type of a field's values in a Where.
type FieldKind int

const (
	KindString FieldKind = iota
	KindTime
	KindBool
)

// Fields of the audit stamps and sign-in times, which filters may name.
const (
	FieldCreatedAt   = "created_at"
	FieldUpdatedAt   = "updated_at"
	FieldLastLoginAt = "last_login_at"
	FieldEmailVerify = "email_verified"
	FieldPhoneVerify = "phone_verified"

	FieldExpired            = "expired"
	FieldCredentialsExpired = "credentials_expired"
	FieldMFAEnabled         = "mfa_enabled"
	FieldSSO                = "sso"
	FieldLockedUntil        = "locked_until"
)

// FilterFields are the fields a Where may name, with their kinds. An absent string is
// the empty string; an absent time is null.
var FilterFields = map[string]FieldKind{
	FieldID: KindString, FieldLoginName: KindString, FieldRealm: KindString, FieldDisplayName: KindString,
	FieldGivenName: KindString, FieldFamilyName: KindString, FieldEmail: KindString,
	FieldPhoneCountryCode: KindString, FieldPhoneNumber: KindString, FieldEmployeeNumber: KindString,
	FieldDepartment: KindString, FieldBusinessUnit: KindString, FieldManager: KindString,
	FieldOrganization: KindString, FieldDescription: KindString, FieldTimeZone: KindString, FieldLocale: KindString,
	FieldExternalID: KindString, FieldStatus: KindString,
	FieldCreatedAt: KindTime, FieldUpdatedAt: KindTime, FieldLastLoginAt: KindTime,
	FieldEmailVerify: KindBool, FieldPhoneVerify: KindBool,
	FieldExpired: KindBool, FieldCredentialsExpired: KindBool, FieldMFAEnabled: KindBool, FieldSSO: KindBool,
	FieldLockedUntil: KindTime,
}

// LooksUpOne reports whether w singles out a user by a unique key — its id, login name
// or external id, compared for equality — at its top level: a look-up, not a search.
func LooksUpOne(w Where) bool {
	switch w := w.(type) {
	case Match:
		return w.Op == MatchEq && (w.Field == FieldID || w.Field == FieldLoginName || w.Field == FieldExternalID)
	case AllOf:
		for _, c := range w {
			if LooksUpOne(c) {
				return true
			}
		}
	}
	return false
}

// MaxWhereTerms bounds how many Matches and Presents one Where may hold.
const MaxWhereTerms = 100

// WhereTerms counts the Matches and Presents of w, the measure MaxWhereTerms bounds.
func WhereTerms(w Where) int {
	switch w := w.(type) {
	case AllOf:
		n := 0
		for _, c := range w {
			n += WhereTerms(c)
		}
		return n
	case AnyOf:
		n := 0
		for _, c := range w {
			n += WhereTerms(c)
		}
		return n
	case Not:
		return WhereTerms(w.Where)
	case nil:
		return 0
	}
	return 1
}

// ValidateWhere checks that w names known fields, with operators and values that suit
// their kinds, and is not too large to run.
func ValidateWhere(w Where) error {
	n := 0
	return validateWhere(w, &n)
}

func validateWhere(w Where, n *int) error {
	switch w := w.(type) {
	case Match:
		*n++
		kind, ok := FilterFields[w.Field]
		if !ok {
			return Invalid(FieldFilter, "cannot filter on %q", w.Field)
		}
		return validateMatch(w, kind)
	case Present:
		*n++
		if _, ok := FilterFields[w.Field]; !ok {
			return Invalid(FieldFilter, "cannot filter on %q", w.Field)
		}
	case AllOf:
		for _, c := range w {
			if err := validateWhere(c, n); err != nil {
				return err
			}
		}
	case AnyOf:
		for _, c := range w {
			if err := validateWhere(c, n); err != nil {
				return err
			}
		}
	case Not:
		if w.Where == nil {
			return Invalid(FieldFilter, "not: a condition is required")
		}
		return validateWhere(w.Where, n)
	case HasRole:
		*n++
		if len(w.Roles) == 0 || len(w.Roles) > MaxWhereTerms {
			return Invalid(FieldFilter, "a role condition names 1 to %d roles", MaxWhereTerms)
		}
	case HasPrivilege:
		*n++
		if len(w.Privileges) == 0 || len(w.Privileges) > MaxWhereTerms {
			return Invalid(FieldFilter, "a privilege condition names 1 to %d privileges", MaxWhereTerms)
		}
	default:
		return Invalid(FieldFilter, "unknown condition %T", w)
	}
	if *n > MaxWhereTerms {
		return Invalid(FieldFilter, "a filter may hold at most %d comparisons", MaxWhereTerms)
	}
	return nil
}

func validateMatch(m Match, kind FieldKind) error {
	ordered := m.Op == MatchGt || m.Op == MatchGe || m.Op == MatchLt || m.Op == MatchLe
	text := m.Op == MatchCo || m.Op == MatchSw || m.Op == MatchEw
	if !ordered && !text && m.Op != MatchEq && m.Op != MatchNe {
		return Invalid(FieldFilter, "unknown operator %q", m.Op)
	}
	if m.Value == nil {
		if m.Op != MatchEq && m.Op != MatchNe {
			return Invalid(FieldFilter, "%s: only eq and ne compare with null", m.Field)
		}
		return nil
	}
	var ok bool
	switch kind {
	case KindString:
		_, ok = m.Value.(string)
	case KindTime:
		_, ok = m.Value.(time.Time)
		ok = ok && !text
	case KindBool:
		_, ok = m.Value.(bool)
		ok = ok && !text && !ordered
	}
	if !ok {
		return Invalid(FieldFilter, "%s cannot be compared with %s %s", m.Field, m.Op, describe(m.Value))
	}
	return nil
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("a %T", v)
}
