package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
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
		resources := make([]any, 0, len(users))
		for i := range users {
			resources = append(resources, userResource(ctx, &users[i], req.attributes, req.exclud))
		}
		writeList(httptest.NewRecorder(), 1000, 1, resources)
	}
}
