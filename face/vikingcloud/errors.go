package vikingcloud

import (
	"errors"
	"net/http"

	"iamd"
	"iamd/face/wire"
	"iamd/server"
)

// errorBody is Spring Boot's default error shape, as VikingCloud answers.
type errorBody struct {
	Message   string `json:"message"`
	Status    int    `json:"status"`
	Error     string `json:"error"`
	Timestamp string `json:"timestamp"`
	Path      string `json:"path"`
}

// faceError is an error already in this face's terms.
type faceError struct {
	status int
	msg    string
}

func (e *faceError) Error() string { return e.msg }

func badRequest(msg string) error { return &faceError{http.StatusBadRequest, msg} }

// wireFields names canonical fields as VikingCloud's User spells them.
var wireFields = map[string]string{
	iamd.FieldLoginName: "userKey.username", iamd.FieldGivenName: "firstName", iamd.FieldFamilyName: "lastName",
	iamd.FieldPhoneNumber: "primaryPhone", iamd.FieldPhoneCountryCode: "primaryPhoneCountryCode",
	iamd.FieldPhoneExtension: "primaryPhoneExtension", iamd.FieldDescription: "notes", iamd.FieldOrganization: "orgId",
	iamd.FieldTimeZone: "timeZone", iamd.FieldMFASecret: "mfaSecret",
}

func (f *Face) writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, status, errorBody{Message: msg, Status: status, Error: http.StatusText(status),
		Timestamp: f.cfg.Now().UTC().Format("2006-01-02T15:04:05.0000000"), Path: r.URL.Path})
}

// WriteError answers err in Spring Boot's shape, the field at fault named as
// VikingCloud spells it.
func (f *Face) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *faceError
	if errors.As(err, &fe) {
		f.writeError(w, r, fe.status, fe.msg)
		return
	}
	msg := iamd.ErrorMessage(err)
	if field := iamd.ErrorField(err); field != "" {
		if wire, ok := wireFields[field]; ok {
			field = wire
		}
		msg = "Field \"" + field + "\": " + msg
	}
	status := map[string]int{iamd.EINVALID: http.StatusBadRequest, iamd.ECONFLICT: http.StatusConflict,
		iamd.ENOTFOUND: http.StatusNotFound, iamd.EUNAUTHENTICATED: http.StatusUnauthorized,
		iamd.EFORBIDDEN: http.StatusForbidden, iamd.ETOOLARGE: http.StatusRequestEntityTooLarge}[iamd.ErrorCode(err)]
	if status == 0 {
		server.LogInternalError(f.log, r, err)
		status, msg = http.StatusInternalServerError, "Internal error."
	}
	f.writeError(w, r, status, msg)
}

var jsonAnswer = wire.JSON{InternalError: []byte(`{"message":"Internal error.","status":500,"error":"Internal Server Error"}`)}

func writeJSON(w http.ResponseWriter, status int, v any) { jsonAnswer.Write(w, status, v) }
