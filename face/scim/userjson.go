package scim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"iamd"
	"iamd/face/wire"
)

// A page of users is most of what a provisioner's full import costs, and reflection made
// encoding it cost more than reading it. appendUser writes a user with no kept attributes
// straight from the record, byte for byte as json.Marshal(toSCIM(…)) writes it (tests hold
// the two alike), and writeList joins such users without encoding them again.

// encoded is a resource already written as JSON.
type encoded []byte

// MarshalJSON lets encoding/json embed an encoded resource where one is encoded whole.
func (e encoded) MarshalJSON() ([]byte, error) { return e, nil }

// appendUser appends u as toSCIM represents it, with base as the face's base URL.
func appendUser(b []byte, base string, u *iamd.User) []byte {
	b = append(b, `{"active":`...)
	b = strconv.AppendBool(b, u.Status == iamd.UserActive)
	b = appendField(b, "displayName", u.DisplayName)
	if u.Email != "" {
		b = append(b, `,"emails":[`...)
		b = appendMultiValue(b, u.Email)
		b = append(b, ']')
	}
	b = appendField(b, "externalId", u.ExternalID)
	if len(u.Groups)+len(u.InheritedGroups) > 0 {
		b = append(b, `,"groups":[`...)
		for i, g := range u.Groups {
			b = appendGroupRef(b, i > 0, base, g, "direct")
		}
		for i, g := range u.InheritedGroups {
			b = appendGroupRef(b, i > 0 || len(u.Groups) > 0, base, g, "indirect")
		}
		b = append(b, ']')
	}
	b = append(b, `,"id":`...)
	b = wire.AppendString(b, u.ID)
	b = appendField(b, "locale", u.Locale)
	b = append(b, `,"meta":{"created":"`...)
	b = appendSeconds(b, u.CreatedAt)
	b = append(b, `","lastModified":"`...)
	b = appendSeconds(b, u.UpdatedAt)
	b = append(b, `","location":`...)
	b = wire.AppendJoined(b, base, "/Users/", u.ID)
	b = append(b, `,"resourceType":"User","version":"W/\"`...) // etag(u)
	b = strconv.AppendInt(b, u.Version, 10)
	b = append(b, `\""}`...)
	if u.GivenName != "" || u.FamilyName != "" {
		b = append(b, `,"name":{`...)
		b = appendMembers(b, "familyName", u.FamilyName, "givenName", u.GivenName)
		b = append(b, '}')
	}
	if u.PhoneNumber != "" {
		b = append(b, `,"phoneNumbers":[`...)
		b = appendMultiValue(b, strings.TrimSpace(u.PhoneCountryCode+" "+u.PhoneNumber))
		b = append(b, ']')
	}
	if len(u.Roles) > 0 {
		b = append(b, `,"roles":[`...)
		for i, r := range u.Roles {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"display":`...)
			b = wire.AppendString(b, r)
			b = append(b, `,"value":`...)
			b = wire.AppendString(b, r)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"schemas":["`+SchemaUser+`"`...)
	enterprise := u.EmployeeNumber != "" || u.Department != "" || u.BusinessUnit != "" || u.Organization != "" || u.Manager != ""
	if enterprise {
		b = append(b, `,"`+SchemaEnterprise+`"`...)
	}
	b = append(b, ']')
	b = appendField(b, "timezone", u.TimeZone)
	if enterprise {
		b = append(b, `,"`+SchemaEnterprise+`":{`...)
		b = appendMembers(b, "department", u.Department, "division", u.BusinessUnit, "employeeNumber", u.EmployeeNumber)
		if u.Manager != "" {
			if b[len(b)-1] != '{' {
				b = append(b, ',')
			}
			b = append(b, `"manager":{"value":`...)
			b = wire.AppendString(b, u.Manager)
			b = append(b, '}')
		}
		if u.Organization != "" {
			if b[len(b)-1] != '{' {
				b = append(b, ',')
			}
			b = append(b, `"organization":`...)
			b = wire.AppendString(b, u.Organization)
		}
		b = append(b, '}')
	}
	b = append(b, `,"userName":`...)
	b = wire.AppendString(b, u.LoginName)
	return append(b, '}')
}

// appendSeconds appends t as t.UTC().Format(time.RFC3339) does, for the years 0 to
// 9999 that layout writes as four digits, without reading the layout each time.
func appendSeconds(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, time.RFC3339)
	}
	hour, minute, second := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, second, 2)
	return append(b, 'Z')
}

// appendDigits appends the n last decimal digits of v ≥ 0, n ≤ 4.
func appendDigits(b []byte, v, n int) []byte {
	var d [4]byte
	for i := n - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:n]...)
}

// appendField appends ,"name":value unless value is empty (omitempty).
func appendField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return wire.AppendString(b, value)
}

// appendMembers appends the non-empty of name, value pairs as an object's members.
func appendMembers(b []byte, pairs ...string) []byte {
	first := true
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, pairs[i]...)
		b = append(b, '"', ':')
		b = wire.AppendString(b, pairs[i+1])
	}
	return b
}

func appendMultiValue(b []byte, value string) []byte {
	b = append(b, `{"primary":true,"type":"`+valueType+`","value":`...)
	b = wire.AppendString(b, value)
	return append(b, '}')
}

func appendGroupRef(b []byte, comma bool, base string, g iamd.GroupRef, kind string) []byte {
	if comma {
		b = append(b, ',')
	}
	b = append(b, `{"$ref":`...)
	b = wire.AppendJoined(b, base, "/Groups/", g.ID)
	b = append(b, `,"display":`...)
	b = wire.AppendString(b, g.Name)
	b = append(b, `,"type":"`...)
	b = append(b, kind...)
	b = append(b, `","value":`...)
	b = wire.AppendString(b, g.ID)
	return append(b, '}')
}

// writeList answers a ListResponse (RFC 7644 §3.4.2) of resources, joining those already
// encoded as they are.
func writeList(w http.ResponseWriter, total, start int, resources []any) {
	buf := listBuffers.Get().(*[]byte)
	defer listBuffers.Put(buf)
	b := append((*buf)[:0], `{"schemas":["`+schemaListResponse+`"],"totalResults":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"startIndex":`...)
	b = strconv.AppendInt(b, int64(start), 10)
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(len(resources)), 10)
	b = append(b, `,"Resources":[`...)
	for i, r := range resources {
		if i > 0 {
			b = append(b, ',')
		}
		if e, ok := r.(encoded); ok {
			b = append(b, e...)
			continue
		}
		doc, err := json.Marshal(r)
		if err != nil {
			jsonAnswer.WriteEncoded(w, http.StatusInternalServerError, jsonAnswer.InternalError)
			return
		}
		b = append(b, doc...)
	}
	b = append(b, "]}"...)
	*buf = b
	jsonAnswer.WriteEncoded(w, http.StatusOK, b)
}

// listBuffers hold list answers while they are written, and the users of a page while
// they are encoded: a page of users is some 100 KB, and allocating it for each page made
// most of the collector's work.
var listBuffers = sync.Pool{New: func() any { return new([]byte) }}
