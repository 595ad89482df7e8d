package scp

import (
	"errors"
	"net/http"

	"iamd"
	"iamd/face/wire"
	"iamd/server"
)

// errorBody is SCP's error shape, as SCP's Terraform provider parses it, with a
// machine-readable code and the offending field added.
type errorBody struct {
	Errors []errorItem `json:"errors"`
}

type errorItem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Field  string `json:"field,omitempty"`
}

// Error codes of this face. SCP documents no 409, so a taken user_id is a 400 with a
// code of its own.
const (
	CodeInvalidParameter   = "InvalidParameter"
	CodeMalformedJSON      = "MalformedJson"
	CodeDuplicateUserID    = "DuplicateUserId"
	CodeConflict           = "Conflict"
	CodeUnauthorized       = "Unauthorized"
	CodeForbidden          = "Forbidden"
	CodeNotFound           = "NotFound"
	CodePayloadTooLarge    = "PayloadTooLarge"
	CodeUnsupportedVersion = "UnsupportedApiVersion"
	CodeNotModifiable      = "UserNotModifiable"
	CodeInternal           = "InternalError"
	CodeUnavailable        = "ServiceUnavailable"
)

// wireFields translates canonical field names to SCP's; several are spelled alike.
var wireFields = map[string]string{
	iamd.FieldLoginName:        "user_id",
	iamd.FieldDisplayName:      "name",
	iamd.FieldPhoneCountryCode: "nation_id",
	iamd.FieldEmployeeNumber:   "employee_id",
	iamd.FieldTimeZone:         "tz_id",
	iamd.FieldPhoneNumber:      "phone_number",
	iamd.FieldBusinessUnit:     "business_unit",
	iamd.FieldGroupIDs:         "group_ids",
	iamd.FieldInstanceID:       "instance_id",
	iamd.FieldUserIDs:          "user_ids",
}

func wireField(canonical string) string {
	if w, ok := wireFields[canonical]; ok {
		return w
	}
	return canonical
}

// faceError is an error already in this face's terms (codes the core does not know).
type faceError struct {
	status int
	code   string
	field  string
	detail string
}

func (e *faceError) Error() string { return e.detail }

func invalid(field, detail string) error {
	return &faceError{status: http.StatusBadRequest, code: CodeInvalidParameter, field: field, detail: detail}
}

// WriteError answers err in SCP's error shape.
func (f *Face) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	server.Unavailable(w, err)
	item := f.errorItem(r, err)
	writeJSON(w, item.Status, errorBody{Errors: []errorItem{item}})
}

// errorItem translates err; internal errors are logged and shown only generically.
func (f *Face) errorItem(r *http.Request, err error) errorItem {
	item := errorItem{}
	var body *wire.BodyError
	if errors.As(err, &body) {
		item = errorItem{Status: http.StatusBadRequest, Code: CodeInvalidParameter, Field: body.Field, Detail: body.Message}
		if body.Malformed {
			item.Code = CodeMalformedJSON
		}
	} else if fe, ok := err.(*faceError); ok {
		item = errorItem{Status: fe.status, Code: fe.code, Field: fe.field, Detail: fe.detail}
	} else {
		code := iamd.ErrorCode(err)
		item.Detail = iamd.ErrorMessageIn(err, wireFields)
		item.Field = wireField(iamd.ErrorField(err))
		switch code {
		case iamd.EINVALID:
			item.Status, item.Code = http.StatusBadRequest, CodeInvalidParameter
			switch iamd.ErrorRule(err) {
			case iamd.RuleBuiltin, iamd.RuleExternalRealm:
				item.Code = CodeNotModifiable
			}
		case iamd.ECONFLICT:
			item.Status, item.Code = http.StatusBadRequest, CodeConflict
			if iamd.ErrorField(err) == iamd.FieldLoginName {
				item.Code = CodeDuplicateUserID
			}
		case iamd.ENOTFOUND:
			item.Status, item.Code = http.StatusNotFound, CodeNotFound
		case iamd.EUNAUTHENTICATED:
			item.Status, item.Code = http.StatusUnauthorized, CodeUnauthorized
		case iamd.EFORBIDDEN:
			item.Status, item.Code = http.StatusForbidden, CodeForbidden
		case iamd.ETOOLARGE:
			item.Status, item.Code = http.StatusRequestEntityTooLarge, CodePayloadTooLarge
		case iamd.EUNAVAILABLE:
			item.Status, item.Code = http.StatusServiceUnavailable, CodeUnavailable
		default:
			server.LogInternalError(f.log, r, err)
			item = errorItem{Status: http.StatusInternalServerError, Code: CodeInternal, Detail: "Internal error."}
		}
	}
	return item
}

var jsonAnswer = wire.JSON{InternalError: []byte(`{"errors":[{"status":500,"code":"InternalError","detail":"Internal error."}]}`)}

func writeJSON(w http.ResponseWriter, status int, v any) { jsonAnswer.Write(w, status, v) }
