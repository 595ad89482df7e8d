package ncloud

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"iamd"
	"iamd/face/wire"
	"iamd/server"
)

// apiError is the SSO API's error shape.
type apiError struct {
	ErrorCode int    `json:"errorCode"`
	Message   string `json:"message"`
}

// gatewayError is the API Gateway's shape, for authentication and authorization
// failures and unknown routes.
type gatewayError struct {
	Error gatewayDetail `json:"error"`
}

type gatewayDetail struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
	Details   string `json:"details"`
}

// faceError is an error already in this face's terms: the wire field at fault, if
// any, spelled as NAVER spells it (a nested one by its path, "userProfile.phoneNo"),
// and what is wrong with it.
type faceError struct {
	status int
	field  string
	detail string
}

func (e *faceError) Error() string { return e.message() }

// message is the error as the API words it: "Invalid request. field: detail" for a
// 400, "field: detail" otherwise.
func (e *faceError) message() string {
	msg := e.detail
	if e.field != "" {
		msg = e.field + ": " + msg
	}
	if e.status == http.StatusBadRequest {
		msg = "Invalid request. " + msg
	}
	return msg
}

// at is the error of a field of the object at path (an item of a batch, "params[2]").
func (e *faceError) at(path string) *faceError {
	return &faceError{status: e.status, field: join(path, e.field), detail: e.detail}
}

// invalid is a 400 naming the wire field at fault.
func invalid(field, detail string) error {
	return &faceError{status: http.StatusBadRequest, field: field, detail: detail}
}

// join names field of the object at path: "userProfile" and "email" make
// "userProfile.email".
func join(path, field string) string {
	switch {
	case path == "":
		return field
	case field == "":
		return path
	}
	return path + "." + field
}

// readObject reads a request body of the allowed fields, as wire.ReadObject does, with
// its refusals in this face's terms.
func readObject(r *http.Request, allowed []string) (wire.Object, error) {
	obj, err := wire.ReadObject(r, allowed)
	return obj, bodyError("", allowed, err)
}

// decodeObject reads the object at path of a body (path "" is the body itself) with
// only the allowed fields; a refusal names the field by its whole path.
func decodeObject(path string, raw []byte, allowed []string) (wire.Object, error) {
	obj, err := wire.DecodeObject(raw, allowed)
	return obj, bodyError(path, allowed, err)
}

// bodyError words wire's refusal of the object at path of a body: a field it does not
// have by its whole path ("userProfile.foo: Unknown field"), and a nested value that is
// no object by its name. Anything else is left as it is.
func bodyError(path string, allowed []string, err error) error {
	var body *wire.BodyError
	if !errors.As(err, &body) {
		return err
	}
	switch {
	case body.Malformed && path != "":
		return invalid(path, "must be a JSON object of "+strings.Join(allowed, ", ")+".")
	case !body.Malformed && body.Field != "" && !slices.Contains(allowed, body.Field):
		return invalid(join(path, body.Field), "Unknown field; the fields here are "+strings.Join(allowed, ", ")+".")
	}
	return err
}

// wireFields translates canonical field names to this face's.
var wireFields = map[string]string{
	iamd.FieldLoginName: "loginId", iamd.FieldGivenName: "userProfile.firstName", iamd.FieldFamilyName: "userProfile.lastName",
	iamd.FieldEmail: "userProfile.email", iamd.FieldEmployeeNumber: "userProfile.empNo",
	iamd.FieldPhoneCountryCode: "userProfile.phoneCountryCode", iamd.FieldPhoneNumber: "userProfile.phoneNo",
	iamd.FieldDepartment: "userProfile.deptName", iamd.FieldDescription: "description", iamd.FieldTags: "tags",
	iamd.FieldStatus: "status", iamd.FieldUserIDs: "userIds", iamd.FieldGroupIDs: "groupIds", iamd.FieldName: "groupName",
	iamd.FieldPage: "page", iamd.FieldSize: "size",
}

// inFaceTerms is err in this face's terms, or nil for what is no fault of the request's
// input or target — a refusal of the caller, an internal error — which WriteError
// answers in the gateway's shape or as a 500. A core error is worded with this face's
// field names (iamd.ErrorMessageIn), the field at fault first.
func inFaceTerms(err error) *faceError {
	var fe *faceError
	var body *wire.BodyError
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &body):
		return &faceError{status: http.StatusBadRequest, field: body.Field, detail: withoutField(body.Field, body.Message)}
	}
	var status int
	switch iamd.ErrorCode(err) {
	case iamd.EINVALID, iamd.ETOOLARGE:
		status = http.StatusBadRequest
	case iamd.ECONFLICT:
		status = http.StatusConflict
	case iamd.ENOTFOUND:
		status = http.StatusNotFound
	default:
		return nil
	}
	field, detail := iamd.ErrorDetailIn(err, wireFields)
	return &faceError{status: status, field: field, detail: detail}
}

// withoutField drops the field a message starts with, which message() puts first.
func withoutField(field, msg string) string {
	if rest, ok := strings.CutPrefix(msg, field+" "); ok && field != "" {
		return rest
	}
	return msg
}

// WriteError answers err: API errors as {"errorCode", "message"} with the HTTP status as
// the code (as the SSO API documents its 400), and what the gateway answers — failed
// authentication (401/200), refused authorization (401/210), unknown routes (404/300) —
// in the gateway's shape.
func (f *Face) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if fe := inFaceTerms(err); fe != nil {
		writeJSON(w, fe.status, apiError{fe.status, fe.message()})
		return
	}
	msg := iamd.ErrorMessageIn(err, wireFields)
	switch iamd.ErrorCode(err) {
	case iamd.EUNAUTHENTICATED:
		writeJSON(w, http.StatusUnauthorized, gatewayError{gatewayDetail{"200", "Authentication Failed", msg}})
	case iamd.EFORBIDDEN:
		writeJSON(w, http.StatusUnauthorized, gatewayError{gatewayDetail{"210", "Permission Denied", msg}})
	case iamd.EUNAVAILABLE:
		server.Unavailable(w, err)
		writeJSON(w, http.StatusServiceUnavailable, apiError{http.StatusServiceUnavailable, msg})
	default:
		server.LogInternalError(f.log, r, err)
		writeJSON(w, http.StatusInternalServerError, apiError{http.StatusInternalServerError, "Internal error."})
	}
}

func (f *Face) notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, gatewayError{gatewayDetail{"300", "Not Found", "No API " + r.Method + " " + r.URL.Path + "."}})
}

var jsonAnswer = wire.JSON{ContentType: "application/json;charset=UTF-8", InternalError: []byte(`{"errorCode":500,"message":"Internal error."}`)}

func writeJSON(w http.ResponseWriter, status int, v any) { jsonAnswer.Write(w, status, v) }
