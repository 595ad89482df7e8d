package account_test

import (
	"strings"
	"testing"
	"time"

	"iamd"
)

// An ID token names its session's user, is refused when altered or expired, and stops
// working when its session is revoked.
func TestIDTokens(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			u := f.user(t, "idt", goodPassword)
			grant, err := f.svc.SignIn(ctx, iamd.SignIn{InstanceID: u.InstanceID, LoginName: "idt", Password: goodPassword})
			if err != nil {
				t.Fatal(err)
			}
			token, err := f.svc.IDToken(ctx, grant.Session)
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.svc.AuthenticateIDToken(ctx, token)
			if err != nil || p.UserID != u.ID || p.SessionID != grant.Session.ID {
				t.Fatalf("a fresh ID token: %+v, %v", p, err)
			}
			parts := strings.Split(token, ".")
			for _, bad := range []string{parts[0] + "." + parts[1] + ".AAAA", parts[0] + ".eyJzdWIiOiJ4In0." + parts[2], "not.a.jwt", ""} {
				if _, err := f.svc.AuthenticateIDToken(ctx, bad); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
					t.Fatalf("%q: %v", bad, err)
				}
			}
			f.advance(2 * time.Hour)
			if _, err := f.svc.AuthenticateIDToken(ctx, token); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("an expired ID token: %v", err)
			}
			f.advance(-2 * time.Hour)
			if err := f.svc.SignOut(ctx, grant.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.AuthenticateIDToken(ctx, token); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("the ID token of a revoked session: %v", err)
			}
		})
	}
}
