package account_test

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"iamd"
	"iamd/account"
)

// RFC 6238 Appendix B.
func TestTOTPVectors(t *testing.T) {
	seeds := map[string]struct {
		secret  string
		newHash func() hash.Hash
	}{
		"SHA1":   {"12345678901234567890", sha1.New},
		"SHA256": {"12345678901234567890123456789012", sha256.New},
		"SHA512": {"1234567890123456789012345678901234567890123456789012345678901234", sha512.New},
	}
	for _, v := range []struct {
		unix int64
		want map[string]string
	}{
		{59, map[string]string{"SHA1": "94287082", "SHA256": "46119246", "SHA512": "90693936"}},
		{1111111109, map[string]string{"SHA1": "07081804", "SHA256": "68084774", "SHA512": "25091201"}},
		{1111111111, map[string]string{"SHA1": "14050471", "SHA256": "67062674", "SHA512": "99943326"}},
		{1234567890, map[string]string{"SHA1": "89005924", "SHA256": "91819424", "SHA512": "93441116"}},
		{2000000000, map[string]string{"SHA1": "69279037", "SHA256": "90698825", "SHA512": "38618901"}},
		{20000000000, map[string]string{"SHA1": "65353130", "SHA256": "77737706", "SHA512": "47863826"}},
	} {
		for alg, want := range v.want {
			seed := seeds[alg]
			step := account.TOTPStep(time.Unix(v.unix, 0))
			if got := account.TOTPCode([]byte(seed.secret), step, 8, seed.newHash); got != want {
				t.Errorf("T=%d %s: %s, want %s", v.unix, alg, got, want)
			}
		}
	}
}

// code computes a TOTP code with an independent implementation (pquerna/otp).
func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMFAEnrolmentAndSignIn(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			u := f.user(t, "alice", goodPassword)
			self := f.signedIn(t, "alice", goodPassword)
			enrolment, err := f.svc.EnrolTOTP(self)
			if err != nil {
				t.Fatal(err)
			}
			key, err := otp.NewKeyFromURL(enrolment.URI)
			if err != nil {
				t.Fatal(err)
			}
			if key.Type() != "totp" || key.Issuer() != "iamd" || key.AccountName() != "alice" || key.Secret() != enrolment.Secret {
				t.Fatalf("otpauth URI %q", enrolment.URI)
			}
			if tp, err := store.GetTOTP(ctx, "a", u.ID); err != nil || len(tp.SecretEncrypted) == 0 || strings.Contains(string(tp.SecretEncrypted), enrolment.Secret) {
				t.Fatalf("the TOTP secret is stored in clear, or not read back: %v", err)
			}
			if _, err := f.svc.ConfirmTOTP(self, "000000"); iamd.ErrorField(err) != iamd.FieldCode {
				t.Fatalf("confirming with a wrong code: %v", err)
			}
			recovery, err := f.svc.ConfirmTOTP(self, code(t, key.Secret(), f.clock()))
			if err != nil {
				t.Fatal(err)
			}
			if len(recovery) != 10 || recovery[0] == recovery[1] {
				t.Fatalf("recovery codes %v", recovery)
			}

			_, err = f.signIn("alice", goodPassword)
			if iamd.ErrorMessage(err) != account.ErrCodeRequired.Message {
				t.Fatalf("no code: %v", err)
			}
			signIn := func(in iamd.SignIn) error {
				in.InstanceID, in.LoginName, in.Password = "a", "alice", goodPassword
				_, err := f.svc.SignIn(ctx, in)
				return err
			}
			// The code that confirmed the enrolment has been used.
			wantFailed(t, signIn(iamd.SignIn{TOTPCode: code(t, key.Secret(), f.clock())}))
			f.advance(30 * time.Second)
			current := code(t, key.Secret(), f.clock())
			if err := signIn(iamd.SignIn{TOTPCode: current}); err != nil {
				t.Fatalf("a fresh code: %v", err)
			}
			wantFailed(t, signIn(iamd.SignIn{TOTPCode: current}))
			// One step of drift either way is accepted.
			f.advance(60 * time.Second)
			if err := signIn(iamd.SignIn{TOTPCode: code(t, key.Secret(), f.clock().Add(-30*time.Second))}); err != nil {
				t.Fatalf("a code one step old: %v", err)
			}
			f.advance(90 * time.Second)
			wantFailed(t, signIn(iamd.SignIn{TOTPCode: code(t, key.Secret(), f.clock().Add(-90*time.Second))}))

			if err := signIn(iamd.SignIn{RecoveryCode: strings.ToLower(recovery[3])}); err != nil {
				t.Fatalf("a recovery code: %v", err)
			}
			wantFailed(t, signIn(iamd.SignIn{RecoveryCode: recovery[3]}))
			if got := f.get(t, u.ID); got.PasswordFailedCount != 1 || !got.MFAEnabled {
				t.Fatalf("wrong codes must count as failures: %d, MFA %v", got.PasswordFailedCount, got.MFAEnabled)
			}

			if err := f.resetMFA(f.admin, "a", u.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.signIn("alice", goodPassword); err != nil {
				t.Fatalf("after disabling MFA: %v", err)
			}
			for _, action := range []string{iamd.ActionMFAEnrol, iamd.ActionMFAConfirm, iamd.ActionMFADisable} {
				if evs, err := store.ListEvents(ctx, iamd.EventFilter{InstanceID: "a", Action: action}); err != nil || len(evs) != 1 {
					t.Errorf("%s: %d events, want 1 (%v)", action, len(evs), err)
				}
			}
		})
	}
}

// An administrator can turn MFA on with a secret the user already has (VikingCloud's
// mfaSecret): sign-in then needs a code from it, and a bad secret changes nothing.
func TestImportTOTPSecret(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			u := f.user(t, "bob", goodPassword)
			const secret = "JBSWY3DPEHPK3PXPJBSWY3DP"
			if err := f.importTOTP(f.admin, u.InstanceID, u.ID, "not base32!"); iamd.ErrorField(err) != iamd.FieldMFASecret {
				t.Fatalf("a bad secret: %v", err)
			}
			if got, err := store.GetUser(ctx, u.InstanceID, u.ID); err != nil || got.MFAEnabled {
				t.Fatalf("a refused secret turned MFA on: %+v, %v", got, err)
			}
			if err := f.importTOTP(f.admin, u.InstanceID, u.ID, strings.ToLower(secret)); err != nil {
				t.Fatal(err)
			}
			in := iamd.SignIn{InstanceID: u.InstanceID, LoginName: "bob", Password: goodPassword}
			if _, err := f.svc.SignIn(ctx, in); err != account.ErrCodeRequired {
				t.Fatalf("without a code: %v", err)
			}
			in.TOTPCode = code(t, secret, f.clock())
			if _, err := f.svc.SignIn(ctx, in); err != nil {
				t.Fatalf("with the imported secret's code: %v", err)
			}
		})
	}
}
