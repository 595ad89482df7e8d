package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"time"

	"iamd"
)

// TOTP parameters: those every authenticator app supports (RFC 6238's defaults).
const (
	totpPeriod    = 30 * time.Second
	totpDigits    = 6
	totpWindow    = 1 // steps either side of now, for clock drift
	totpSecretLen = 20
	totpIssuer    = "iamd"
	recoveryCodes = 10
)

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPStep is the RFC 6238 time step t falls in, with a 30-second period.
func TOTPStep(t time.Time) int64 { return t.Unix() / int64(totpPeriod/time.Second) }

// TOTPCode is the RFC 4226 HOTP value of secret at counter step, as a zero-padded
// decimal of the given number of digits.
func TOTPCode(secret []byte, step int64, digits int, newHash func() hash.Hash) string {
	mac := hmac.New(newHash, secret)
	binary.Write(mac, binary.BigEndian, step)
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	value := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, value%mod)
}

// matchTOTP returns the step within the window around now whose code is code, newest
// first, or false.
func matchTOTP(secret []byte, code string, now time.Time) (int64, bool) {
	if len(code) != totpDigits {
		return 0, false
	}
	step := TOTPStep(now)
	for d := int64(totpWindow); d >= -totpWindow; d-- {
		if hmac.Equal([]byte(TOTPCode(secret, step+d, totpDigits, sha1.New)), []byte(code)) {
			return step + d, true
		}
	}
	return 0, false
}

// TOTPEnrolment is what enrolling hands the user, once: the secret for manual entry
// and the otpauth:// URI authenticator apps read from a QR code.
type TOTPEnrolment struct {
	Secret string
	URI    string
}

// sealTOTP binds the sealed secret to its user, as access-key secrets are bound to
// their key.
func totpAAD(userID string) string { return "totp:" + userID }

// EnrolTOTP starts the caller's own MFA enrolment. It takes effect once confirmed with
// a first code.
func (s *Service) EnrolTOTP(ctx context.Context) (*TOTPEnrolment, error) {
	p, u, err := s.self(ctx)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, totpSecretLen)
	rand.Read(secret)
	sealed, err := s.key.Seal(secret, totpAAD(u.ID))
	if err != nil {
		return nil, err
	}
	now := s.clock()
	ev := s.event(ctx, p, u.InstanceID, iamd.ActionMFAEnrol, "user", u.ID, now)
	if err := s.store.PutTOTP(ctx, u.InstanceID, &iamd.TOTP{UserID: u.ID, SecretEncrypted: sealed, CreatedAt: now}, ev); err != nil {
		return nil, err
	}
	encoded := base32NoPad.EncodeToString(secret)
	label := url.PathEscape(totpIssuer + ":" + u.LoginName)
	q := url.Values{"secret": {encoded}, "issuer": {totpIssuer}, "algorithm": {"SHA1"},
		"digits": {fmt.Sprint(totpDigits)}, "period": {fmt.Sprint(int(totpPeriod / time.Second))}}
	return &TOTPEnrolment{Secret: encoded, URI: "otpauth://totp/" + label + "?" + q.Encode()}, nil
}

// ConfirmTOTP completes the caller's enrolment with a first code and returns ten
// single-use recovery codes, shown this once and stored hashed.
func (s *Service) ConfirmTOTP(ctx context.Context, code string) ([]string, error) {
	p, u, err := s.self(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.store.GetTOTP(ctx, u.InstanceID, u.ID)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND || (err == nil && t.Confirmed) {
		return nil, iamd.Invalid(iamd.FieldCode, "there is no MFA enrolment to confirm; enrol first")
	} else if err != nil {
		return nil, err
	}
	secret, err := s.key.Open(t.SecretEncrypted, totpAAD(u.ID))
	if err != nil {
		return nil, err
	}
	now := s.clock()
	step, ok := matchTOTP(secret, code, now)
	if !ok {
		return nil, iamd.Invalid(iamd.FieldCode, "the code does not match; check the authenticator's clock")
	}
	codes := make([]string, recoveryCodes)
	hashes := make([][]byte, recoveryCodes)
	for i := range codes {
		codes[i] = randomFrom(5, recoveryAlphabet) + "-" + randomFrom(5, recoveryAlphabet)
		hashes[i] = recoveryHash(codes[i])
	}
	ev := s.event(ctx, p, u.InstanceID, iamd.ActionMFAConfirm, "user", u.ID, now)
	if err := s.store.ConfirmTOTP(ctx, u.InstanceID, u.ID, step, hashes, ev); err != nil {
		return nil, err
	}
	return codes, nil
}

// SealTOTPSecret seals a user's TOTP secret under the master key, bound to the user:
// what the directory needs to turn MFA on with a secret the user already has
// (directory.Credentials).
func (s *Service) SealTOTPSecret(userID string, secret []byte) ([]byte, error) {
	return s.key.Seal(secret, totpAAD(userID))
}

// recoveryAlphabet leaves out characters people misread (0/O, 1/I/L).
const recoveryAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// recoveryHash normalizes a code as people type it and hashes it. Codes carry 98 bits
// of randomness, so a fast hash suffices.
func recoveryHash(code string) []byte {
	code = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))
	sum := sha256.Sum256([]byte(code))
	return sum[:]
}

// DisableTOTP turns the caller's own MFA off. An administrator resets another user's
// MFA with a change to that user (iamd.UserChange.MFA).
func (s *Service) DisableTOTP(ctx context.Context) error {
	p, u, err := s.self(ctx)
	if err != nil {
		return err
	}
	ev := s.event(ctx, p, u.InstanceID, iamd.ActionMFADisable, "user", u.ID, s.clock())
	return s.store.DeleteTOTP(ctx, u.InstanceID, u.ID, ev)
}

// verifySecondFactor checks a sign-in's TOTP or recovery code. A missing code is
// EUNAUTHENTICATED with its own message, so that clients know to ask for one; the
// password has been verified by then.
func (s *Service) verifySecondFactor(ctx context.Context, u *iamd.User, in iamd.SignIn, now time.Time) error {
	switch {
	case in.RecoveryCode != "":
		err := s.store.UseRecoveryCode(ctx, u.ID, recoveryHash(in.RecoveryCode), now)
		if iamd.ErrorCode(err) == iamd.ENOTFOUND {
			return errWrongCode
		}
		return err
	case in.TOTPCode != "":
		t, err := s.store.GetTOTP(ctx, u.InstanceID, u.ID)
		if iamd.ErrorCode(err) == iamd.ENOTFOUND {
			return errWrongCode
		} else if err != nil {
			return err
		}
		secret, err := s.key.Open(t.SecretEncrypted, totpAAD(u.ID))
		if err != nil {
			return err
		}
		step, ok := matchTOTP(secret, in.TOTPCode, now)
		if !ok {
			return errWrongCode
		}
		if err := s.store.UseTOTPStep(ctx, u.ID, step); iamd.ErrorCode(err) == iamd.ECONFLICT {
			return errReusedCode
		} else if err != nil {
			return err
		}
		return nil
	}
	return ErrCodeRequired
}

// ErrCodeRequired answers a right password for a user enrolled in MFA, given without
// a code.
var ErrCodeRequired = iamd.Errorf(iamd.EUNAUTHENTICATED, "A one-time code is required.")

var (
	errWrongCode  = iamd.Errorf(iamd.EUNAUTHENTICATED, "wrong one-time code")
	errReusedCode = iamd.Errorf(iamd.EUNAUTHENTICATED, "one-time code already used")
)

// self returns the caller and its user record.
func (s *Service) self(ctx context.Context) (*iamd.Principal, *iamd.User, error) {
	p := iamd.PrincipalFromContext(ctx)
	if p == nil || p.UserID == "" {
		return nil, nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	}
	if p.PasswordChangeOnly {
		return nil, nil, iamd.Errorf(iamd.EFORBIDDEN, "The password must be changed before anything else.")
	}
	u, err := s.store.GetUser(ctx, p.InstanceID, p.UserID)
	if err != nil {
		return nil, nil, err
	}
	return p, u, nil
}

// Me returns the caller's own user record: what anyone signed in may read of themselves.
func (s *Service) Me(ctx context.Context) (*iamd.User, error) {
	p := iamd.PrincipalFromContext(ctx)
	if p == nil || p.UserID == "" {
		return nil, iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	}
	return s.store.GetUser(ctx, p.InstanceID, p.UserID)
}
