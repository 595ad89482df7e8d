package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"iamd"
)

// listUsers are users as a page may hold them: every canonical field, none, text
// encoding/json escapes, groups direct and inherited, and kept attributes.
func listUsers() []iamd.User {
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	return []iamd.User{
		{ID: "u1", LoginName: "bare", Status: iamd.UserActive, CreatedAt: at, UpdatedAt: at, Version: 1},
		{ID: "u2", LoginName: "full@example.com", DisplayName: "Full <Name> & co", GivenName: "Full", FamilyName: "Name",
			Email: "full@example.com", PhoneCountryCode: "+1", PhoneNumber: "555 0100", Locale: "en-US", TimeZone: "Europe/Paris",
			ExternalID: "ext-2", EmployeeNumber: "42", Department: "R&D", BusinessUnit: "Lab", Organization: "Org", Manager: "u1",
			Status: iamd.UserSuspended, CreatedAt: at, UpdatedAt: at.Add(time.Hour), Version: 7,
			Groups: []iamd.GroupRef{{ID: "g1", Name: "Direct"}}, InheritedGroups: []iamd.GroupRef{{ID: "g0", Name: "Parent\u2028"}},
			Roles: []string{"admin", "viewer"}},
		{ID: "u3", LoginName: "given", GivenName: "Only", Department: "D", Status: iamd.UserActive, CreatedAt: at, UpdatedAt: at,
			Version: 2, Groups: []iamd.GroupRef{}, Roles: []string{}},
		{ID: "u4", LoginName: "kept", Email: "k@example.com", Status: iamd.UserActive, CreatedAt: at, UpdatedAt: at, Version: 3,
			Extra: `{"title":"T","name":{"formatted":"K"},"phoneNumbers":[{"type":"home","value":"1"}],"x509Certificates":[{"value":"n"}]}`},
	}
}

// A listed user is byte for byte the document a GET builds, attributes or none.
func TestListedUserIsItsDocument(t *testing.T) {
	ctx := withBase(context.Background(), httptest.NewRequest("GET", "/", nil), "/scim/v2")
	for _, req := range []listRequest{{}, {attributes: []string{"userName", "emails"}}, {exclud: []string{"groups", "name.givenName"}}} {
		for _, u := range listUsers() {
			doc := userDoc(ctx, &u)
			if len(req.attributes) > 0 || len(req.exclud) > 0 {
				doc = project(doc, req.attributes, req.exclud)
			}
			want, _ := json.Marshal(doc)
			got, err := json.Marshal(userResource(ctx, &u, req.attributes, req.exclud))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s %+v: listed as\n%s (%v), its document is\n%s", u.LoginName, req, got, err, want)
			}
		}
	}
}

// BenchmarkUserListPage encodes a page of 100 users as GET /Users answers it, the store
// left out.
func BenchmarkUserListPage(b *testing.B) {
	ctx := withBase(context.Background(), httptest.NewRequest("GET", "/", nil), "/scim/v2")
	users := make([]iamd.User, 100)
	for i := range users {
		users[i] = listUsers()[i%3]
		users[i].ID = fmt.Sprintf("u%d", i)
	}
	req := &listRequest{}
	b.ReportAllocs()
	for b.Loop() {
		writeList(discard{http.Header{}}, 1000, 1, userResources(ctx, users, req.attributes, req.exclud, new([]byte)))
	}
}

// discard is a ResponseWriter that keeps no body, as a connection's does not: a
// recorder's growing buffer would be most of what the benchmark measures.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}

// listResponse is a ListResponse (RFC 7644 §3.4.2) as encoding/json writes it, which
// writeList must match.
type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

func TestWriteListIsEncodingJSON(t *testing.T) {
	ctx := withBase(context.Background(), httptest.NewRequest("GET", "/", nil), "/scim/v2")
	users := listUsers()
	for _, n := range []int{0, 1, len(users)} {
		var resources, plain []any
		for i := range users[:n] {
			resources = append(resources, userResources(ctx, users[i:i+1], nil, nil, new([]byte))...)
			plain = append(plain, userDoc(ctx, &users[i]))
		}
		resources = append(resources, map[string]any{"id": "g1", "displayName": "<Group>"})
		plain = append(plain, map[string]any{"id": "g1", "displayName": "<Group>"})
		rec := httptest.NewRecorder()
		writeList(rec, 1000, 7, resources)
		want, _ := json.Marshal(listResponse{Schemas: []string{schemaListResponse}, TotalResults: 1000, StartIndex: 7,
			ItemsPerPage: len(plain), Resources: plain})
		if got := rec.Body.Bytes(); !bytes.Equal(got, append(want, '\n')) {
			t.Errorf("%d users: wrote\n%s\nencoding/json writes\n%s", n, got, want)
		}
		if rec.Code != 200 || rec.Header().Get("Content-Type") != contentType {
			t.Errorf("%d users: %d %v", n, rec.Code, rec.Header())
		}
	}
}

// appendUser writes what json.Marshal(toSCIM(…)) writes, whatever the record holds.
func FuzzAppendUser(f *testing.F) {
	for _, u := range listUsers() {
		var group, inherited string
		if len(u.Groups) > 0 {
			group = u.Groups[0].Name
		}
		if len(u.InheritedGroups) > 0 {
			inherited = u.InheritedGroups[0].Name
		}
		f.Add(u.ID, u.LoginName, u.DisplayName, u.GivenName, u.FamilyName, u.Email, u.PhoneCountryCode, u.PhoneNumber,
			u.Locale, u.ExternalID, u.Department+"|"+u.EmployeeNumber, u.Manager, group, inherited, int64(u.Version), u.Status == iamd.UserActive)
	}
	f.Add("i", "\xff<&>", "\u2028", "", "f", "", "", "\t", "", "", "|", "", "", "", int64(-1), false)
	ctx := withBase(context.Background(), httptest.NewRequest("GET", "/", nil), "https://h/scim/v2")
	f.Fuzz(func(t *testing.T, id, login, display, given, family, email, code, phone, locale, external, enterprise, manager,
		group, inherited string, version int64, active bool) {
		dept, number, _ := strings.Cut(enterprise, "|")
		at := time.Unix(version%(1<<40), version%1e9).In(time.FixedZone("x", 3600))
		if version%3 == 0 { // far dates too, which RFC 3339's layout writes otherwise
			at = time.Unix(version, 0)
		}
		u := iamd.User{ID: id, LoginName: login, DisplayName: display, GivenName: given, FamilyName: family, Email: email,
			PhoneCountryCode: code, PhoneNumber: phone, Locale: locale, TimeZone: locale, ExternalID: external,
			Department: dept, EmployeeNumber: number, BusinessUnit: number, Organization: dept, Manager: manager,
			Status: iamd.UserSuspended, CreatedAt: at, UpdatedAt: at.Add(time.Hour), Version: version}
		if active {
			u.Status = iamd.UserActive
		}
		if group != "" {
			u.Groups = []iamd.GroupRef{{ID: group, Name: group}, {ID: "g2", Name: "two"}}
			u.Roles = []string{group, "viewer"}
		}
		if inherited != "" {
			u.InheritedGroups = []iamd.GroupRef{{ID: inherited, Name: "<" + inherited}}
		}
		want, err := json.Marshal(toSCIM(ctx, &u))
		if err != nil {
			t.Fatal(err)
		}
		if got := appendUser(nil, baseURL(ctx), &u); !bytes.Equal(got, want) {
			t.Fatalf("appended\n%s\nencoding/json writes\n%s", got, want)
		}
	})
}
