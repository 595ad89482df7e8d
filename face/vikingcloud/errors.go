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

// userFields names canonical fields as VikingCloud's User spells them (and its search
// criteria, which use the same names). A field the face has no name for is said in words
// by iamd.ErrorMessageIn.
var userFields = map[string]string{
	iamd.FieldID: "id", iamd.FieldLoginName: "userKey.username", iamd.FieldRealm: "userKey.authenticator",
	iamd.FieldGivenName: "firstName", iamd.FieldFamilyName: "lastName", iamd.FieldEmail: "email",
	iamd.FieldPhoneNumber: "primaryPhone", iamd.FieldPhoneCountryCode: "primaryPhoneCountryCode",
	iamd.FieldPhoneExtension: "primaryPhoneExtension", iamd.FieldDescription: "notes", iamd.FieldOrganization: "orgId",
	iamd.FieldTimeZone: "timeZone", iamd.FieldLocale: "locale", iamd.FieldMFASecret: "mfaSecret",
	iamd.FieldMFAEnabled: "usingMfa", iamd.FieldStatus: "enabled", iamd.FieldLockedUntil: "locked",
	iamd.FieldExpired: "expired", iamd.FieldCredentialsExpired: "credentialsExpired", iamd.FieldSSO: "isSsoUser",
	iamd.FieldPassword: "password", iamd.FieldRoles: "roles", iamd.FieldPrivileges: "privileges",
	iamd.FieldCreatedAt: "createdInstant", iamd.FieldUpdatedAt: "lastUpdatedInstant",
	iamd.FieldLastLoginAt: "lastSuccessfulAuthAttempt", iamd.FieldPage: "page", iamd.FieldSize: "size",
}

// roleFields names canonical fields as VikingCloud's Role spells them.
var roleFields = map[string]string{
	iamd.FieldName: "name", iamd.FieldDescription: "description", iamd.FieldPrivileges: "privileges",
}

// tokenFields names canonical fields as the token API's request spells them: the
// password a sign-in sets is newPassword.
var tokenFields = map[string]string{
	iamd.FieldLoginName: "username", iamd.FieldPassword: "newPassword", iamd.FieldCode: "mfaCode",
}

// with returns names with the given fields renamed (a request that sent sharedSecret
// is told about sharedSecret).
func with(names map[string]string, renamed ...string) map[string]string {
	out := make(map[string]string, len(names)+len(renamed)/2)
	for k, v := range names {
		out[k] = v
	}
	for i := 0; i+1 < len(renamed); i += 2 {
		out[renamed[i]] = renamed[i+1]
	}
	return out
}

func (f *Face) writeError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	writeJSON(w, status, errorBody{Message: msg, Status: status, Error: http.StatusText(status),
		Timestamp: f.cfg.Now().UTC().Format("2006-01-02T15:04:05.0000000"), Path: r.URL.Path})
}

// WriteError answers err in Spring Boot's shape, its fields named as VikingCloud's User
// spells them.
func (f *Face) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	f.writeErrorIn(w, r, err, userFields)
}

// writeErrorIn answers err in Spring Boot's shape, the field at fault, and any field the
// message mentions, named as names (the body's vocabulary) has them.
func (f *Face) writeErrorIn(w http.ResponseWriter, r *http.Request, err error, names map[string]string) {
	var fe *faceError
	if errors.As(err, &fe) {
		f.writeError(w, r, fe.status, fe.msg)
		return
	}
	msg := iamd.ErrorMessageIn(err, names)
	if _, ok := names[iamd.ErrorField(err)]; ok { // a field the face has no name for is said in words
		field, detail := iamd.ErrorDetailIn(err, names)
		msg = "Field \"" + field + "\": " + detail
	}
	status := map[string]int{iamd.EINVALID: http.StatusBadRequest, iamd.ECONFLICT: http.StatusConflict,
		iamd.ENOTFOUND: http.StatusNotFound, iamd.EUNAUTHENTICATED: http.StatusUnauthorized,
		iamd.EFORBIDDEN: http.StatusForbidden, iamd.ETOOLARGE: http.StatusRequestEntityTooLarge,
		iamd.EUNAVAILABLE: http.StatusServiceUnavailable}[iamd.ErrorCode(err)]
	server.Unavailable(w, err)
	if status == 0 {
		server.LogInternalError(f.log, r, err)
		status, msg = http.StatusInternalServerError, "Internal error."
	}
	f.writeError(w, r, status, msg)
}

var jsonAnswer = wire.JSON{InternalError: []byte(`{"message":"Internal error.","status":500,"error":"Internal Server Error"}`)}

func writeJSON(w http.ResponseWriter, status int, v any) { jsonAnswer.Write(w, status, v) }
