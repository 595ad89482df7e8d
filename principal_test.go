package iamd_test

import (
	"slices"
	"testing"

	"iamd"
)

func TestTogether(t *testing.T) {
	key := &iamd.Principal{InstanceID: "i", UserID: "u", Privileges: []string{iamd.PrivilegeUserRead, iamd.PrivilegeUserWrite}}
	session := &iamd.Principal{InstanceID: "i", UserID: "u", SessionID: "s", Privileges: []string{iamd.PrivilegeUserRead}}
	if got, err := iamd.Together(nil, key); err != nil || got != key {
		t.Fatalf("one credential: %+v, %v", got, err)
	}
	got, err := iamd.Together(key, session)
	if err != nil || !slices.Equal(got.Privileges, []string{iamd.PrivilegeUserRead}) || got.SessionID != "s" {
		t.Fatalf("key and session: %+v, %v", got, err)
	}
	admin := &iamd.Principal{InstanceID: "i", UserID: "u", PlatformAdmin: true}
	if got, _ := iamd.Together(admin, key); got.PlatformAdmin || !slices.Equal(got.Privileges, key.Privileges) {
		t.Fatalf("an administrator beside a key: %+v", got)
	}
	limited := &iamd.Principal{InstanceID: "i", UserID: "u", SessionID: "s", PasswordChangeOnly: true}
	if got, _ := iamd.Together(admin, limited); !got.PasswordChangeOnly || got.PlatformAdmin || len(got.Privileges) != 0 {
		t.Fatalf("a password-change-only sign-in: %+v", got)
	}
	for _, other := range []*iamd.Principal{
		{InstanceID: "i", UserID: "v"}, {InstanceID: "j", UserID: "u"}, {InstanceID: "i", UserID: "u", SessionID: "t"},
	} {
		if _, err := iamd.Together(session, other); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
			t.Errorf("%+v beside %+v: %v", other, session, err)
		}
	}
	if key.Privileges[1] != iamd.PrivilegeUserWrite {
		t.Fatal("Together changed a principal it was given")
	}
}
