package scim

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"iamd"
)

// RFC 7643 §2.1 and §7: attribute names are case-insensitive, userName is caseExact
// false, id and externalId caseExact true; filters translate onto canonical fields.
func TestRFC7643_UserFilterAttributes(t *testing.T) {
	created := time.Date(2011, 5, 13, 4, 42, 34, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want iamd.Where
	}{
		{`userName eq "bjensen"`, iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchEq, Value: "bjensen"}},
		{`USERNAME Eq "bjensen"`, iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchEq, Value: "bjensen"}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchSw, Value: "J"}},
		{`externalId eq "x"`, iamd.Match{Field: iamd.FieldExternalID, Op: iamd.MatchEq, Value: "x", CaseExact: true}},
		{`name.familyName co "O'Malley"`, iamd.Match{Field: iamd.FieldFamilyName, Op: iamd.MatchCo, Value: "O'Malley"}},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, iamd.Match{Field: iamd.FieldUpdatedAt, Op: iamd.MatchGt, Value: created}},
		{`active eq true`, iamd.Match{Field: iamd.FieldStatus, Op: iamd.MatchEq, Value: "active", CaseExact: true}},
		{`active eq false`, iamd.Match{Field: iamd.FieldStatus, Op: iamd.MatchNe, Value: "active", CaseExact: true}},
		{`emails[type eq "work" and value co "@example.com"]`,
			iamd.AllOf{iamd.AllOf{}, iamd.Match{Field: iamd.FieldEmail, Op: iamd.MatchCo, Value: "@example.com"}}},
		{`emails[type eq "home"]`, iamd.AnyOf{}},
		{`emails.value ew ".org" or not (displayName pr)`,
			iamd.AnyOf{iamd.Match{Field: iamd.FieldEmail, Op: iamd.MatchEw, Value: ".org"}, iamd.Not{Where: iamd.Present{Field: iamd.FieldDisplayName}}}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1"`,
			iamd.Match{Field: iamd.FieldManager, Op: iamd.MatchEq, Value: "m1"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq null`,
			iamd.Match{Field: iamd.FieldEmployeeNumber, Op: iamd.MatchEq, Value: nil}},
	} {
		f, err := ParseFilter(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		got, err := UserWhere(f)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s\n got %#v\nwant %#v", c.in, got, c.want)
		}
		if err := iamd.ValidateWhere(got); err != nil {
			t.Errorf("%s: the core refuses the translation: %v", c.in, err)
		}
	}
	for _, in := range []string{
		`title eq "x"`, `password eq "x"`, `urn:example:other:userName eq "x"`, `userName eq 42`, `active eq "yes"`,
		`meta.created co "2011"`, `meta.created eq "yesterday"`, `emails[type eq 1]`, `emails[value.x eq "a"]`, `userName gt true`,
	} {
		f, err := ParseFilter(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var fe *FilterError
		if _, err := UserWhere(f); !errors.As(err, &fe) {
			t.Errorf("%s: %v, want an invalid filter", in, err)
		} else if msg := err.Error(); strings.Contains(msg, "a active") || strings.Contains(msg, "a dateTime attribute") != strings.HasPrefix(in, "meta.created") {
			t.Errorf("%s: %q", in, msg)
		}
	}
}
