package iamd

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. Each face maps them to its own wire shape and status; the core never
// knows about HTTP or any vendor's error format.
const (
	EINVALID         = "invalid"         // bad input; Field names what was wrong
	ENOTFOUND        = "not_found"       // absent, or belongs to an instance the caller cannot see
	ECONFLICT        = "conflict"        // uniqueness or a concurrent change
	EUNAUTHENTICATED = "unauthenticated" // no or bad credentials
	EFORBIDDEN       = "forbidden"       // authenticated but lacks the privilege
	ETOOLARGE        = "too_large"       // request or batch over a limit
	// EUNAVAILABLE is a store that cannot be reached for now (its primary is down or
	// being replaced): the request changed nothing and may be sent again shortly.
	EUNAVAILABLE = "unavailable"
	EINTERNAL    = "internal" // anything unexpected; the message is never shown to clients
)

// RetryAfterSeconds is what faces tell a client to wait before it sends a request
// refused with EUNAVAILABLE again (HTTP's Retry-After).
const RetryAfterSeconds = 2

// Error is the domain error. Field holds the canonical field name (one of the
// Field* constants) so that each face can translate it to its own wire name. Rule,
// when set, names the rule that refused (one of the Rule* constants), for faces whose
// vendor has a code of its own for it.
type Error struct {
	Code    string
	Field   string
	Rule    string
	Message string
}

// Rules a refusal may name (Error.Rule).
const (
	RuleBuiltin        = "builtin"         // a built-in user cannot be changed or deleted
	RuleExternalRealm  = "external_realm"  // a user of another realm is managed there
	RuleExclusiveRoles = "exclusive_roles" // roles that cannot be held together
	// RuleRights refuses (EFORBIDDEN) a caller acting on a user with rights it does not
	// have itself, or granting privileges it does not hold: unlike a missing privilege,
	// it concerns one target, so a batch fails that item alone.
	RuleRights = "rights"
	// RuleSelfService refuses (EFORBIDDEN) a user's change to itself of anything but its
	// names, email and password; Field names what it touched.
	RuleSelfService = "self_service"
)

// RefusesCaller reports whether err refuses the caller itself — it is not authenticated,
// or lacks a privilege — rather than one target: a batch then fails as a whole, where an
// item the caller may not touch (RuleRights), or that is bad, fails alone.
func RefusesCaller(err error) bool {
	switch ErrorCode(err) {
	case EUNAUTHENTICATED:
		return true
	case EFORBIDDEN:
		return ErrorRule(err) != RuleRights
	}
	return false
}

// Refused returns an EINVALID error naming the rule that refused, and the field if any.
func Refused(rule, field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("iamd %s (%s): %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("iamd %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with no field.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error that names the offending field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of a domain error, or EINTERNAL for any other error
// and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorField returns the canonical field a domain error names, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorRule returns the rule a domain error names, if any.
func ErrorRule(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Rule
	}
	return ""
}

// ErrorMessage returns the human-readable message of a domain error. Internal errors
// get a generic text: their details belong in logs, not in responses.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorMessageIn returns the message of a domain error in a face's vocabulary, so that a
// face never shows another face's field names: the error's own field where the message
// begins with it, and every snake_case canonical field name (the Field* constants) it
// mentions, become the face's name for it in names, or, if the face has none, words
// ("phone number"). Plain words that happen to name a field ("an email address") stay.
func ErrorMessageIn(err error, names map[string]string) string {
	msg := ErrorMessage(err)
	field := ErrorField(err)
	var b strings.Builder
	for i := 0; i < len(msg); {
		if msg[i] == '"' { // a quoted value is the caller's, as sent: never rewritten
			end := quotedEnd(msg, i)
			b.WriteString(msg[i:end])
			i = end
			continue
		}
		j := i
		for j < len(msg) && isFieldByte(msg[j]) {
			j++
		}
		if j == i {
			b.WriteByte(msg[i])
			i++
			continue
		}
		word := msg[i:j]
		switch {
		case !canonicalFields[word] || !strings.Contains(word, "_") && (i != 0 || word != field):
			b.WriteString(word)
		case names[word] != "":
			b.WriteString(names[word])
		default:
			b.WriteString(strings.ReplaceAll(word, "_", " "))
		}
		i = j
	}
	return b.String()
}

// ErrorDetailIn splits a domain error for faces that name the field apart from the
// reason ("field: reason"): field is the error's field in the face's names (as
// ErrorMessageIn writes it; "" when the error names none), and detail is the message in
// the face's vocabulary without the field it begins with.
func ErrorDetailIn(err error, names map[string]string) (field, detail string) {
	detail = ErrorMessageIn(err, names)
	canonical := ErrorField(err)
	if canonical == "" {
		return "", detail
	}
	field = names[canonical]
	if field == "" {
		field = strings.ReplaceAll(canonical, "_", " ")
	}
	if rest, ok := strings.CutPrefix(detail, field+" "); ok {
		detail = rest
	}
	return field, detail
}

// quotedEnd is the index just past the string quoted at msg[start] (Go's %q, with its
// backslash escapes), or len(msg) if it is not closed.
func quotedEnd(msg string, start int) int {
	for i := start + 1; i < len(msg); i++ {
		switch msg[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(msg)
}

func isFieldByte(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// canonicalFields holds every canonical field name.
var canonicalFields = map[string]bool{}

func init() {
	for _, f := range []string{FieldID, FieldInstanceID, FieldLoginName, FieldRealm, FieldDisplayName, FieldGivenName,
		FieldFamilyName, FieldEmail, FieldPhoneCountryCode, FieldPhoneNumber, FieldPhoneExtension, FieldEmployeeNumber,
		FieldDepartment, FieldBusinessUnit, FieldManager, FieldOrganization, FieldDescription, FieldTimeZone, FieldLocale,
		FieldExternalID, FieldExtra, FieldTags, FieldMFASecret, FieldStatus, FieldGroupIDs, FieldName, FieldPassword,
		FieldCurrentPassword, FieldCode, FieldExpiresAt, FieldPasswordHash, FieldPrivileges, FieldRoles,
		FieldElevatedUntil, FieldUserIDs, FieldMemberGroupIDs, FieldPage, FieldSize, FieldSort, FieldFilter,
		FieldAccessKey, FieldVersion, FieldCreatedAt, FieldPolicy, FieldPasswordMinLen, FieldPasswordHistory,
		FieldPasswordMaxAge, FieldLockoutThreshold, FieldLockoutDuration, FieldUpdatedAt, FieldLastLoginAt,
		FieldEmailVerify, FieldPhoneVerify, FieldExpired, FieldCredentialsExpired, FieldMFAEnabled, FieldSSO,
		FieldLockedUntil} {
		canonicalFields[f] = true
	}
}
