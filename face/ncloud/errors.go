package ncloud

import (
	"errors"
	"net/http"

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

// faceError is an error already in this face's terms.
type faceError struct {
	status int
	detail string
}

func (e *faceError) Error() string { return e.detail }

// invalid is a 400 naming the wire field at fault.
func invalid(field, detail string) error {
	return &faceError{status: http.StatusBadRequest, detail: "Invalid request. " + field + ": " + detail}
}

// wireFields translates canonical field names to this face's.
var wireFields = map[string]string{
	iamd.FieldLoginName: "loginId", iamd.FieldGivenName: "userProfile.firstName", iamd.FieldFamilyName: "userProfile.lastName",
	iamd.FieldEmail: "userProfile.email", iamd.FieldEmployeeNumber: "userProfile.empNo",
	iamd.FieldPhoneCountryCode: "userProfile.phoneCountryCode", iamd.FieldPhoneNumber: "userProfile.phoneNo",
	iamd.FieldDepartment: "userProfile.deptName", iamd.FieldDescription: "description", iamd.FieldTags: "tags",
}

// WriteError answers err: API errors as {"errorCode", "message"} with the HTTP status as
// the code (as the SSO API documents its 400), and what the gateway answers — failed
// authentication (401/200), refused authorization (401/210), unknown routes (404/300) —
// in the gateway's shape.
func (f *Face) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var body *wire.BodyError
	var fe *faceError
	switch {
	case errors.As(err, &body):
		writeJSON(w, http.StatusBadRequest, apiError{http.StatusBadRequest, "Invalid request. " + body.Message})
		return
	case errors.As(err, &fe):
		writeJSON(w, fe.status, apiError{fe.status, fe.detail})
		return
	}
	msg := iamd.ErrorMessage(err)
	if field := wireFields[iamd.ErrorField(err)]; field != "" {
		msg = field + ": " + msg
	}
	switch iamd.ErrorCode(err) {
	case iamd.EUNAUTHENTICATED:
		writeJSON(w, http.StatusUnauthorized, gatewayError{gatewayDetail{"200", "Authentication Failed", msg}})
	case iamd.EFORBIDDEN:
		writeJSON(w, http.StatusUnauthorized, gatewayError{gatewayDetail{"210", "Permission Denied", msg}})
	case iamd.EINVALID, iamd.ETOOLARGE:
		writeJSON(w, http.StatusBadRequest, apiError{http.StatusBadRequest, "Invalid request. " + msg})
	case iamd.ECONFLICT:
		writeJSON(w, http.StatusConflict, apiError{http.StatusConflict, msg})
	case iamd.ENOTFOUND:
		writeJSON(w, http.StatusNotFound, apiError{http.StatusNotFound, msg})
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
