package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"iamd"
)

// RFC 7644 §3.4.2.2: the operators, logical expressions, grouping, value paths,
// sub-attributes and schema URNs, including every example filter of the section.
func TestRFC7644_3_4_2_2_FilterGrammar(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`userName eq "bjensen"`, `userName eq "bjensen"`},
		{`name.familyName co "O'Malley"`, `name.familyName co "O'Malley"`},
		{`userName sw "J"`, `userName sw "J"`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`},
		{`title pr`, `title pr`},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, `meta.lastModified ge "2011-05-13T04:42:34Z"`},
		{`meta.lastModified lt "2011-05-13T04:42:34Z"`, `meta.lastModified lt "2011-05-13T04:42:34Z"`},
		{`meta.lastModified le "2011-05-13T04:42:34Z"`, `meta.lastModified le "2011-05-13T04:42:34Z"`},
		{`title pr and userType eq "Employee"`, `(title pr and userType eq "Employee")`},
		{`title pr or userType eq "Intern"`, `(title pr or userType eq "Intern")`},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
			`(userType eq "Employee" and (emails co "example.com" or emails.value co "example.org"))`},
		{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
			`(userType ne "Employee" and not ((emails co "example.com" or emails.value co "example.org")))`},
		{`userType eq "Employee" and (emails.type eq "work")`, `(userType eq "Employee" and emails.type eq "work")`},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
			`(userType eq "Employee" and emails[(type eq "work" and value co "@example.com")])`},
		{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
			`(emails[(type eq "work" and value co "@example.com")] or ims[(type eq "xmpp" and value co "@foo.com")])`},
		// "and" binds tighter than "or"; keywords and operators in any case.
		{`a eq 1 or b eq 2 and c eq 3`, `(a eq 1 or (b eq 2 and c eq 3))`},
		{`(a eq 1 or b eq 2) and c eq 3`, `((a eq 1 or b eq 2) and c eq 3)`},
		{`userName EQ "x" AND active Eq true`, `(userName eq "x" and active eq true)`},
		{`NOT (active eq false)`, `not (active eq false)`},
		// Values: strings with escapes, numbers, true, false, null.
		{`displayName eq "Ba\"b\u00e9"`, `displayName eq "Ba\"bé"`},
		{`x eq 42`, `x eq 42`}, {`x gt -1.5e3`, `x gt -1.5e3`}, {`x eq null`, `x eq null`}, {`x eq false`, `x eq false`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`,
			`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`},
		{`  userName   eq   "spaced"  `, `userName eq "spaced"`},
	} {
		f, err := ParseFilter(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got := fmt.Sprint(f); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.in, got, c.want)
		}
	}
}

// Malformed filters are refused with SCIM's invalidFilter, naming where.
func TestRFC7644_3_4_2_2_InvalidFilters(t *testing.T) {
	for _, in := range []string{
		``, `userName`, `userName eq`, `userName xx "a"`, `userName eq "a`, `userName eq bjensen`,
		`(userName eq "a"`, `userName eq "a")`, `not userName eq "a"`, `userName eq "a" and`, `and userName eq "a"`,
		`emails[type eq "work"`, `emails[type eq "work"].value eq "x"`, `emails[types[a eq 1]]`, `emails.value[type eq "x"]`,
		`1name eq "a"`, `na$me eq "a"`, `name. eq "a"`, `a.b.c eq "a"`, `foo:bar eq "a"`, `userName eq "a" "b"`,
		`userName eq 01x`, "userName eq \"\xff\"", `userName eq "bad \q escape"`,
	} {
		_, err := ParseFilter(in)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%q: %v, want a FilterError", in, err)
		}
	}
}

func TestFilterNestingIsBounded(t *testing.T) {
	deep := ""
	for range 60 {
		deep += "("
	}
	deep += `a eq 1`
	for range 60 {
		deep += ")"
	}
	if _, err := ParseFilter(deep); err == nil {
		t.Fatal("a filter nested 60 deep was accepted")
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`userName eq "bjensen"`, `emails[type eq "work" and value co "@example.com"]`,
		`not (a pr) or b.c ge 1.5`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
		`((((a eq "(")))))`, `a eq "\u0000"`, `active eq false and meta.created ge "2020-01-01T00:00:00Z"`,
		`emails[type eq "work" and not (value ew ".org")]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parsed, err := ParseFilter(s)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) || fe.Pos < 0 || fe.Pos > len(s) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		// Whatever translates onto users, the core accepts.
		if where, err := UserWhere(parsed); err == nil {
			if err := iamd.ValidateWhere(where); err != nil {
				t.Fatalf("%q: translated to a condition the core refuses: %v", s, err)
			}
		}
		// What parses renders to a filter that parses to the same tree.
		again, err := ParseFilter(fmt.Sprint(parsed))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(parsed) {
			t.Fatalf("%q → %s → %v, %v", s, parsed, again, err)
		}
	})
}

// FuzzPatchUpdate applies PatchOp bodies to a user's document and reads the result as
// a PUT would: a SCIM 400 or a canonical user, never a panic, and what is kept beside
// the canonical fields is always a JSON object within its limit.
func FuzzPatchUpdate(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"a@b.c"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"name":{"givenName":"x"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m"}}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"emails[value co \"x\"]"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"roles","value":[{"value":"{\"value\":\"r\"}"}]},{"op":"remove","path":"roles[value eq \"r\"]"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0100"},{"op":"Replace","path":"addresses[type eq \"work\"].locality","value":"x"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":{"a":[1,{"b":null}]}},{"op":"remove","path":"name.middleName"}]}`,
		`{"Operations":null}`, `[]`, ``,
	} {
		f.Add(s)
	}
	ctx := withBase(context.Background(), httptest.NewRequest("GET", "/", nil), "/scim/v2")
	user := &iamd.User{ID: "u1", InstanceID: "i", LoginName: "fuzz", DisplayName: "Fuzz", Email: "f@example.com",
		Status: iamd.UserActive, Roles: []string{"r"}, Groups: []iamd.GroupRef{{ID: "g", Name: "G"}},
		Extra: `{"title":"T","phoneNumbers":[{"type":"home","value":"1"}]}`}
	f.Fuzz(func(t *testing.T, body string) {
		ops, err := patchOps([]byte(body))
		doc := userDoc(ctx, user)
		if err == nil {
			err = applyPatch(doc, ops)
		}
		var extra string
		var in *userIn
		if err == nil {
			in, extra, err = userFromDoc(doc)
		}
		if err == nil {
			_, err = in.canonical("i")
		}
		if err != nil {
			var se *scimError
			if !errors.As(err, &se) || se.status != 400 {
				t.Fatalf("%q: %v", body, err)
			}
			return
		}
		var obj map[string]any
		if extra != "" && (json.Unmarshal([]byte(extra), &obj) != nil || len(extra) > iamd.MaxExtraLen) {
			t.Fatalf("%q: kept %q", body, extra)
		}
	})
}
