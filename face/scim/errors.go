package scim

import (
	"errors"
	"net/http"
	"strconv"

	"iamd"
	"iamd/face/wire"
	"iamd/server"
)

// SchemaError is the schema of SCIM's error responses (RFC 7644 §3.12).
const SchemaError = "urn:ietf:params:scim:api:messages:2.0:Error"

// scimType values of RFC 7644 §3.12.
const (
	TypeInvalidFilter = "invalidFilter"
	TypeTooMany       = "tooMany"
	TypeUniqueness    = "uniqueness"
	TypeMutability    = "mutability"
	TypeInvalidSyntax = "invalidSyntax"
	TypeInvalidPath   = "invalidPath"
	TypeNoTarget      = "noTarget"
	TypeInvalidValue  = "invalidValue"
	TypeInvalidVers   = "invalidVers"
	TypeSensitive     = "sensitive"
)

type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"` // a string, as RFC 7644 has it
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// scimError is an error already in SCIM's terms.
type scimError struct {
	status   int
	scimType string
	detail   string
}

func (e *scimError) Error() string { return e.detail }

func newError(status int, scimType, detail string) error {
	return &scimError{status: status, scimType: scimType, detail: detail}
}

// WriteError answers err in SCIM's error shape.
func (f *Face) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	server.Unavailable(w, err)
	status, scimType, detail := f.translate(r, err)
	writeJSON(w, status, errorBody{Schemas: []string{SchemaError}, Status: strconv.Itoa(status), ScimType: scimType, Detail: detail})
}

func (f *Face) translate(r *http.Request, err error) (int, string, string) {
	var se *scimError
	var fe *FilterError
	var body *wire.BodyError
	switch {
	case errors.As(err, &se):
		return se.status, se.scimType, se.detail
	case errors.As(err, &fe):
		return http.StatusBadRequest, TypeInvalidFilter, fe.Error()
	case errors.As(err, &body):
		if body.Malformed {
			return http.StatusBadRequest, TypeInvalidSyntax, body.Message
		}
		return http.StatusBadRequest, TypeInvalidValue, body.Message
	}
	detail := iamd.ErrorMessageIn(err, wireFields)
	switch iamd.ErrorCode(err) {
	case iamd.EINVALID:
		switch {
		case iamd.ErrorField(err) == iamd.FieldFilter:
			return http.StatusBadRequest, TypeInvalidFilter, detail
		case iamd.ErrorRule(err) == iamd.RuleBuiltin || iamd.ErrorRule(err) == iamd.RuleExternalRealm:
			return http.StatusBadRequest, TypeMutability, detail
		}
		return http.StatusBadRequest, TypeInvalidValue, detail
	case iamd.ECONFLICT:
		if iamd.ErrorField(err) == iamd.FieldVersion {
			// The version the request named (If-Match) is not the resource's now.
			if r.Header.Get("If-Match") != "" {
				return http.StatusPreconditionFailed, "", "The resource has changed since the version in If-Match."
			}
			return http.StatusConflict, "", detail
		}
		return http.StatusConflict, TypeUniqueness, detail
	case iamd.ENOTFOUND:
		if f := iamd.ErrorField(err); f == iamd.FieldUserIDs || f == iamd.FieldMemberGroupIDs {
			return http.StatusBadRequest, TypeInvalidValue, detail // a member named that is not there
		}
		return http.StatusNotFound, "", detail
	case iamd.EUNAUTHENTICATED:
		return http.StatusUnauthorized, "", detail
	case iamd.EFORBIDDEN:
		return http.StatusForbidden, "", detail
	case iamd.ETOOLARGE:
		return http.StatusRequestEntityTooLarge, "", detail
	case iamd.EUNAVAILABLE:
		return http.StatusServiceUnavailable, "", detail
	}
	server.LogInternalError(f.log, r, err)
	return http.StatusInternalServerError, "", "Internal error."
}

// wireFields names canonical fields as SCIM's User and Group schemas do.
var wireFields = map[string]string{
	iamd.FieldLoginName: "userName", iamd.FieldDisplayName: "displayName", iamd.FieldGivenName: "name.givenName",
	iamd.FieldFamilyName: "name.familyName", iamd.FieldEmail: "emails", iamd.FieldPhoneNumber: "phoneNumbers",
	iamd.FieldPhoneCountryCode: "phoneNumbers", iamd.FieldExternalID: "externalId", iamd.FieldTimeZone: "timezone",
	iamd.FieldLocale: "locale", iamd.FieldEmployeeNumber: "employeeNumber", iamd.FieldDepartment: "department",
	iamd.FieldBusinessUnit: "division", iamd.FieldOrganization: "organization", iamd.FieldManager: "manager",
	iamd.FieldStatus: "active", iamd.FieldRoles: "roles", iamd.FieldPassword: "password", iamd.FieldUserIDs: "members",
	iamd.FieldMemberGroupIDs: "members", iamd.FieldGroupIDs: "groups", iamd.FieldName: "displayName",
}

// contentType is SCIM's media type (RFC 7644 §3.1); application/json is accepted too.
const contentType = "application/scim+json"

var jsonAnswer = wire.JSON{ContentType: contentType,
	InternalError: []byte(`{"schemas":["` + SchemaError + `"],"status":"500","detail":"Internal error."}`)}

func writeJSON(w http.ResponseWriter, status int, v any) { jsonAnswer.Write(w, status, v) }
