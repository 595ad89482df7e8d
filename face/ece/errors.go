package ece

import (
	"errors"
	"net/http"

	"iamd"
	"iamd/face/wire"
	"iamd/server"
)

// errorBody is ECE's BasicFailedReply; the codes also go in the x-cloud-error-codes
// header, which Elastic's clients read.
type errorBody struct {
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Fields  []string `json:"fields,omitempty"`
}

// Error codes this face answers with: ECE's own where ECE documents one for the case.
const (
	CodeUnauthenticated      = "root.unauthenticated"
	CodeUnauthorized         = "root.unauthorized"
	CodeNotFound             = "root.resource_not_found"
	CodeMalformed            = "root.malformed_request"
	CodeTooLarge             = "root.request_too_large"
	CodeInternal             = "root.internal_error"
	CodeUnavailable          = "root.service_unavailable"
	CodeUserNotFound         = "user.not_found"
	CodeUserNameInvalid      = "user.user_name.invalid"
	CodeUserNameConflict     = "user.user_name.conflict"
	CodeRolesInvalid         = "user.roles.invalid"
	CodeRolesForbidden       = "user.roles.forbidden"
	CodeRestrictedField      = "user.restricted_field"
	CodeRestrictedDeletion   = "user.restricted_deletion"
	CodeCannotModify         = "user.cannot_modify"
	CodeCannotModifyExternal = "user.cannot_modify_external"
	CodeUserInvalid          = "user.invalid_input"
	CodeConflict             = "root.conflict"
)

// faceError is an error already in ECE's terms.
type faceError struct {
	status int
	code   string
	msg    string
	fields []string
}

func (e *faceError) Error() string { return e.msg }

func newError(status int, code, msg string, fields ...string) error {
	return &faceError{status: status, code: code, msg: msg, fields: fields}
}

// wireFields translates canonical field names to ECE's.
var wireFields = map[string]string{
	iamd.FieldLoginName:     "user_name",
	iamd.FieldDisplayName:   "full_name",
	iamd.FieldPassword:      "security.password",
	iamd.FieldRoles:         "security.roles",
	iamd.FieldElevatedUntil: "security.elevated_permissions.expires_at",
}

// selfServiceFields names, in ECE's terms, what a user changing itself may not change.
var selfServiceFields = map[string]string{
	iamd.FieldLoginName:     "user_name",
	iamd.FieldRoles:         "security.roles",
	iamd.FieldStatus:        "security.enabled",
	iamd.FieldElevatedUntil: "security.elevated_permissions",
}

// WriteError answers err in ECE's error shape.
func (f *Face) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	server.Unavailable(w, err)
	status, item := f.errorItem(r, err)
	w.Header().Set("x-cloud-error-codes", item.Code)
	writeJSON(w, status, errorBody{Errors: []errorItem{item}})
}

func (f *Face) errorItem(r *http.Request, err error) (int, errorItem) {
	var fe *faceError
	var body *wire.BodyError
	switch {
	case errors.As(err, &fe):
		return fe.status, errorItem{Code: fe.code, Message: fe.msg, Fields: fe.fields}
	case errors.As(err, &body):
		item := errorItem{Code: CodeUserInvalid, Message: body.Message}
		if body.Malformed {
			item.Code = CodeMalformed
		}
		if body.Field != "" {
			item.Fields = []string{body.Field}
		}
		return http.StatusBadRequest, item
	}
	item := errorItem{Message: iamd.ErrorMessageIn(err, wireFields)}
	field := iamd.ErrorField(err)
	if field != "" {
		if w, ok := wireFields[field]; ok {
			field = w
		}
		item.Fields = []string{field}
	}
	switch iamd.ErrorCode(err) {
	case iamd.EINVALID:
		item.Code = CodeUserInvalid
		switch iamd.ErrorField(err) {
		case iamd.FieldLoginName:
			item.Code = CodeUserNameInvalid
		case iamd.FieldRoles:
			item.Code = CodeRolesInvalid
		}
		switch iamd.ErrorRule(err) {
		case iamd.RuleBuiltin:
			item.Code, item.Fields = CodeCannotModify, []string{"user_name"}
		case iamd.RuleExternalRealm:
			item.Code, item.Fields = CodeCannotModifyExternal, []string{"user_name"}
		case iamd.RuleExclusiveRoles:
			item.Code = CodeRolesForbidden
		}
		return http.StatusBadRequest, item
	case iamd.ECONFLICT:
		item.Code = CodeConflict
		if iamd.ErrorField(err) == iamd.FieldLoginName {
			item.Code = CodeUserNameConflict
		}
		return http.StatusConflict, item
	case iamd.ENOTFOUND:
		item.Code = CodeUserNotFound
		return http.StatusNotFound, item
	case iamd.EUNAUTHENTICATED:
		item.Code = CodeUnauthenticated
		return http.StatusUnauthorized, item
	case iamd.EFORBIDDEN:
		if iamd.ErrorRule(err) == iamd.RuleSelfService {
			// What a user may not change of itself is, in ECE's words, a restricted field.
			item.Code, item.Fields = CodeRestrictedField, nil
			if w, ok := selfServiceFields[iamd.ErrorField(err)]; ok {
				item.Fields = []string{w}
			}
			return http.StatusBadRequest, item
		}
		item.Code = CodeUnauthorized
		return http.StatusForbidden, item
	case iamd.ETOOLARGE:
		item.Code = CodeTooLarge
		return http.StatusRequestEntityTooLarge, item
	case iamd.EUNAVAILABLE:
		item.Code = CodeUnavailable
		return http.StatusServiceUnavailable, item
	}
	server.LogInternalError(f.log, r, err)
	return http.StatusInternalServerError, errorItem{Code: CodeInternal, Message: "Internal error."}
}

var jsonAnswer = wire.JSON{InternalError: []byte(`{"errors":[{"code":"root.internal_error","message":"Internal error."}]}`)}

func writeJSON(w http.ResponseWriter, status int, v any) { jsonAnswer.Write(w, status, v) }
