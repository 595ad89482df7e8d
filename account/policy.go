package account

import (
	"strings"
	"unicode/utf8"

	"iamd"
	"iamd/account/blocklist"
)

// minContextLen is the shortest login name or email local part a password may not contain:
// shorter ones occur in passwords by chance.
const minContextLen = 3

// CheckPassword applies the instance's policy to a new password for u, after NIST SP
// 800-63B: length bounds, a blocklist of common passwords, and no login name or email.
// There are no composition rules. Each refusal names its rule. History is checked by
// the Service, which can read the user's previous hashes.
func CheckPassword(p iamd.AccountPolicy, u *iamd.User, pw string) error {
	if len(pw) > iamd.MaxPasswordBytes {
		return iamd.Invalid(iamd.FieldPassword, "password must be at most %d bytes (rule: maximum length)", iamd.MaxPasswordBytes)
	}
	if !utf8.ValidString(pw) {
		return iamd.Invalid(iamd.FieldPassword, "password must be valid UTF-8 (rule: encoding)")
	}
	if n := utf8.RuneCountInString(pw); n < p.PasswordMinLength {
		return iamd.Invalid(iamd.FieldPassword, "password must be at least %d characters (rule: minimum length)", p.PasswordMinLength)
	}
	lower := strings.ToLower(pw)
	if blocklist.Common(pw) {
		// NIST SP 800-63B §3.1.1.2: say why, so that the user chooses differently.
		return iamd.Invalid(iamd.FieldPassword, "this password is commonly used and appears in lists of breached passwords (NIST SP 800-63B): choose a different one (rule: common password)")
	}
	if login := strings.ToLower(u.LoginName); len(login) >= minContextLen && strings.Contains(lower, login) {
		return iamd.Invalid(iamd.FieldPassword, "%s must not contain the %s (rule: login name)", iamd.FieldPassword, iamd.FieldLoginName)
	}
	if email := strings.ToLower(u.Email); email != "" {
		local, _, _ := strings.Cut(email, "@")
		if strings.Contains(lower, email) || (len(local) >= minContextLen && strings.Contains(lower, local)) {
			return iamd.Invalid(iamd.FieldPassword, "password must not contain the email address (rule: email)")
		}
	}
	return nil
}
