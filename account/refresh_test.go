package account_test

import (
	"strings"
	"testing"
	"time"

	"iamd"
)

// A refresh token is its own secret, good only to refresh its session, once: it is no
// access token, an access token or ID token does not refresh through it, an altered one
// is refused, and it stops working when its session is refreshed, expires or is revoked.
func TestRefreshTokens(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			u := f.user(t, "rft", goodPassword)
			grant, err := f.svc.SignIn(ctx, iamd.SignIn{InstanceID: u.InstanceID, LoginName: "rft", Password: goodPassword})
			if err != nil {
				t.Fatal(err)
			}
			refresh := f.svc.RefreshToken(grant.Session)
			if refresh == grant.Token || strings.Contains(refresh, grant.Token) || refresh != f.svc.RefreshToken(grant.Session) {
				t.Fatalf("refresh token %q of access token %q", refresh, grant.Token)
			}
			idToken, err := f.svc.IDToken(ctx, grant.Session)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.AuthenticateToken(ctx, refresh); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("the refresh token as an access token: %v", err)
			}
			if _, err := f.svc.AuthenticateIDToken(ctx, refresh); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("the refresh token as an ID token: %v", err)
			}
			id, mac, _ := strings.Cut(refresh, ".")
			other := strings.Replace(refresh, grant.Session.ID, strings.Repeat("0", 32), 1)
			for _, bad := range []string{grant.Token, idToken, "", "iamdr_", id, id + ".", id + ".AAAA", id + "." + mac[1:] + "A",
				other, "iamdr_\x00." + mac, "iamdr_" + strings.ToUpper(grant.Session.ID) + "." + mac, "x" + refresh} {
				if _, err := f.svc.RefreshWithToken(ctx, bad); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
					t.Fatalf("refresh with %q: %v", bad, err)
				}
			}
			if _, err := f.svc.AuthenticateToken(ctx, grant.Token); err != nil {
				t.Fatalf("the refused refreshes ended the session: %v", err)
			}

			next, err := f.svc.RefreshWithToken(ctx, refresh)
			if err != nil || next.Session.UserID != u.ID || next.Session.ID == grant.Session.ID {
				t.Fatalf("refresh: %+v, %v", next, err)
			}
			if _, err := f.svc.AuthenticateToken(ctx, grant.Token); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("the old access token after a refresh: %v", err)
			}
			if _, err := f.svc.RefreshWithToken(ctx, refresh); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("a refresh token used twice: %v", err)
			}
			if p, err := f.svc.AuthenticateToken(ctx, next.Token); err != nil || p.UserID != u.ID {
				t.Fatalf("the new access token: %+v, %v", p, err)
			}

			// Expired with its session, and revoked with it.
			refresh = f.svc.RefreshToken(next.Session)
			f.advance(2 * time.Hour)
			if _, err := f.svc.RefreshWithToken(ctx, refresh); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("the refresh token of an expired session: %v", err)
			}
			f.advance(-2 * time.Hour)
			if err := f.svc.SignOut(ctx, next.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.RefreshWithToken(ctx, refresh); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("the refresh token of a revoked session: %v", err)
			}
		})
	}
}
