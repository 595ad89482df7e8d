package iamd

import (
	"encoding/base32"
	"encoding/json"
	"net/mail"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones must validate on machines without system zoneinfo
	"unicode"
	"unicode/utf8"
)

// Canonical limits, counted in characters (runes). A face whose vendor documents a
// tighter limit checks that too; none may accept more than these.
const (
	MaxIdentifierLen = 64
	MaxLoginNameLen  = 128
	MaxNameLen       = 128
	// MaxPersonNameLen bounds given and family names: NAVER Cloud allows 200 bytes, which
	// in ASCII is 200 characters.
	MaxPersonNameLen  = 200
	MaxTextLen        = 255
	MaxDescriptionLen = 1024
	MaxEmailLen       = 254 // RFC 5321 path limit
	MaxExtraLen       = 16 << 10
)

// Validate checks every field of a user before it is stored.
func (u *User) Validate() error {
	if err := checkLoginName(u.LoginName); err != nil {
		return err
	}
	texts := []struct {
		field, value string
		max          int
	}{
		{FieldRealm, u.Realm, MaxIdentifierLen},
		{FieldDisplayName, u.DisplayName, MaxNameLen},
		{FieldGivenName, u.GivenName, MaxPersonNameLen},
		{FieldFamilyName, u.FamilyName, MaxPersonNameLen},
		{FieldPhoneExtension, u.PhoneExtension, 16},
		{FieldEmployeeNumber, u.EmployeeNumber, MaxTextLen},
		{FieldDepartment, u.Department, MaxTextLen},
		{FieldBusinessUnit, u.BusinessUnit, MaxTextLen},
		{FieldManager, u.Manager, MaxTextLen},
		{FieldOrganization, u.Organization, MaxTextLen},
		{FieldDescription, u.Description, MaxDescriptionLen},
		{FieldLocale, u.Locale, 35}, // BCP 47's longest practical tag
		{FieldExternalID, u.ExternalID, MaxTextLen},
	}
	for _, t := range texts {
		if err := CheckText(t.field, t.value, t.max); err != nil {
			return err
		}
	}
	if u.Email != "" {
		if err := CheckEmail(FieldEmail, u.Email); err != nil {
			return err
		}
	}
	if u.PhoneCountryCode != "" {
		if err := CheckCallingCode(FieldPhoneCountryCode, u.PhoneCountryCode); err != nil {
			return err
		}
	}
	if u.PhoneNumber != "" {
		if err := CheckPhoneNumber(FieldPhoneNumber, u.PhoneNumber); err != nil {
			return err
		}
	}
	if u.TimeZone != "" {
		if err := CheckTimeZone(FieldTimeZone, u.TimeZone); err != nil {
			return err
		}
	}
	if u.Extra != "" {
		var obj map[string]json.RawMessage
		if len(u.Extra) > MaxExtraLen {
			return Invalid(FieldExtra, "the attributes kept beside the canonical ones take at most %d bytes", MaxExtraLen)
		}
		if json.Unmarshal([]byte(u.Extra), &obj) != nil || obj == nil {
			return Invalid(FieldExtra, "the attributes kept beside the canonical ones must be a JSON object")
		}
	}
	switch u.Status {
	case UserActive, UserSuspended:
	default:
		return Invalid(FieldStatus, "status must be %q or %q", UserActive, UserSuspended)
	}
	return nil
}

// LoginKey is the form under which login names are compared and indexed: the same for
// every store, so uniqueness does not depend on a database's collation.
func LoginKey(loginName string) string {
	return strings.ToLower(loginName)
}

func checkLoginName(s string) error {
	if s == "" {
		return Invalid(FieldLoginName, "%s is required", FieldLoginName)
	}
	if err := CheckText(FieldLoginName, s, MaxLoginNameLen); err != nil {
		return err
	}
	if strings.TrimSpace(s) != s {
		return Invalid(FieldLoginName, "%s must not start or end with white space", FieldLoginName)
	}
	return nil
}

// CheckText rejects invalid UTF-8, control characters and values over max runes.
func CheckText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "%s must be valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return Invalid(field, "%s must be at most %d characters, got %d", field, max, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return Invalid(field, "%s must not contain control characters", field)
		}
	}
	return nil
}

// checkIdentifier accepts 1 to max characters of letters, digits, '-', '_' and '.'.
func checkIdentifier(field, s string, max int) error {
	if s == "" {
		return Invalid(field, "%s is required", field)
	}
	if len(s) > max {
		return Invalid(field, "%s must be at most %d characters", field, max)
	}
	for _, r := range s {
		if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.')) {
			return Invalid(field, "%s may hold only ASCII letters, digits, '-', '_' and '.'", field)
		}
	}
	return nil
}

// CheckEmail accepts a bare address (no display name) of at most MaxEmailLen bytes.
func CheckEmail(field, s string) error {
	if len(s) > MaxEmailLen {
		return Invalid(field, "%s must be at most %d characters", field, MaxEmailLen)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return Invalid(field, "%s must be an email address like name@example.com", field)
	}
	return nil
}

// CheckCallingCode accepts a country calling code ITU-T has assigned (ITU-T E.164):
// "+" and 1 to 3 digits. Every face holds its users to this one list.
func CheckCallingCode(field, s string) error {
	if !KnownCallingCode(s) {
		return Invalid(field, "%s must be a country calling code in use, like +82", field)
	}
	return nil
}

// CheckPhoneNumber accepts digits with the usual separators (space, '-', '.', '(', ')'),
// 4 to 15 digits in all (E.164's maximum).
func CheckPhoneNumber(field, s string) error {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return Invalid(field, "%s may hold only digits, spaces and - . ( )", field)
		}
	}
	if digits < 4 || digits > 15 {
		return Invalid(field, "%s must have 4 to 15 digits", field)
	}
	return nil
}

// CheckTimeZone accepts an IANA time zone name such as Asia/Seoul.
func CheckTimeZone(field, s string) error {
	if s == "Local" || strings.ContainsAny(s, "\\") || len(s) > 64 {
		return Invalid(field, "%s must be an IANA time zone name like Asia/Seoul", field)
	}
	if _, err := time.LoadLocation(s); err != nil {
		return Invalid(field, "%s must be an IANA time zone name like Asia/Seoul", field)
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// twoDigitCallingCodes are the ITU-T E.164 country calling codes of two digits; +1 and
// +7 are the only ones of one, and every other code has three. The assigned codes are
// prefix-free, so this is enough to split an international number.
var twoDigitCallingCodes = map[string]bool{
	"20": true, "27": true, "30": true, "31": true, "32": true, "33": true, "34": true, "36": true, "39": true,
	"40": true, "41": true, "43": true, "44": true, "45": true, "46": true, "47": true, "48": true, "49": true,
	"51": true, "52": true, "53": true, "54": true, "55": true, "56": true, "57": true, "58": true,
	"60": true, "61": true, "62": true, "63": true, "64": true, "65": true, "66": true,
	"81": true, "82": true, "84": true, "86": true, "90": true, "91": true, "92": true, "93": true, "94": true,
	"95": true, "98": true,
}

// SplitCallingCode splits an international number ("+82 10-1234-5678", "+15550100",
// "tel:+1-201-555-0123" as RFC 3966 writes it) into its country calling code ("+82")
// and the rest, separators at the join dropped. ok is false when s does not start with
// '+' and a digit.
func SplitCallingCode(s string) (code, rest string, ok bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "tel:")
	if len(s) < 2 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return "", s, false
	}
	digits := s[1:]
	n := 3
	switch {
	case digits[0] == '1' || digits[0] == '7':
		n = 1
	case len(digits) >= 2 && twoDigitCallingCodes[digits[:2]]:
		n = 2
	}
	if len(digits) < n || !allDigits(digits[:n]) {
		return "", s, false
	}
	return "+" + digits[:n], strings.TrimLeft(digits[n:], " -.("), true
}

// threeDigitCallingCodes are the ITU-T E.164 country calling codes of three digits in
// use (with the global services of +8xx): KnownCallingCode accepts these, the two-digit
// ones above, and +1 and +7.
var threeDigitCallingCodes = func() map[string]bool {
	codes := map[string]bool{}
	for _, c := range strings.Fields(`211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234
		235 236 237 238 239 240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255 256 257 258 260 261 262 263
		264 265 266 267 268 269 290 291 297 298 299 350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375 376
		377 378 379 380 381 382 383 385 386 387 389 420 421 423 500 501 502 503 504 505 506 507 508 509 590 591 592 593
		594 595 596 597 598 599 670 672 673 674 675 676 677 678 679 680 681 682 683 685 686 687 688 689 690 691 692 800
		808 850 852 853 855 856 870 878 880 881 882 883 886 888 960 961 962 963 964 965 966 967 968 970 971 972 973 974
		975 976 977 979 992 993 994 995 996 998`) {
		codes[c] = true
	}
	return codes
}()

// CallingCode writes a country calling code the canonical way, with its "+": APIs send
// "82" and "+82" alike.
func CallingCode(s string) string {
	if s != "" && !strings.HasPrefix(s, "+") {
		return "+" + s
	}
	return s
}

// KnownCallingCode tells whether code ("+82") is a country calling code ITU-T has
// assigned.
func KnownCallingCode(code string) bool {
	if len(code) < 2 || len(code) > 4 || code[0] != '+' || !allDigits(code[1:]) {
		return false
	}
	digits := code[1:]
	switch len(digits) {
	case 1:
		return digits == "1" || digits == "7"
	case 2:
		return twoDigitCallingCodes[digits]
	}
	return threeDigitCallingCodes[digits]
}

// CheckMobileNumber checks number as a mobile number of the country of code. Korea's
// plan (+82) is known: 010 and the older 011, 016–019 prefixes, 10 or 11 digits with the
// trunk 0 (9 or 10 without it). Elsewhere it is held to CheckPhoneNumber.
func CheckMobileNumber(field, code, number string) error {
	if err := CheckPhoneNumber(field, number); err != nil {
		return err
	}
	if code != "+82" {
		return nil
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, number)
	if !strings.HasPrefix(digits, "0") {
		digits = "0" + digits
	}
	if len(digits) < 10 || len(digits) > 11 || !strings.HasPrefix(digits, "01") || !strings.ContainsRune("016789", rune(digits[2])) {
		return Invalid(field, "%s must be a Korean mobile number, like 010-1234-5678", field)
	}
	return nil
}

// DecodeTOTPSecret reads a TOTP secret as authenticator apps show it — base32, any case,
// spaces and padding allowed. RFC 4226 asks for 128 bits; 80 are accepted, since the
// common 16-character secrets other systems hand out are that long.
func DecodeTOTPSecret(s string) ([]byte, error) {
	clean := strings.ToUpper(strings.TrimRight(strings.ReplaceAll(s, " ", ""), "="))
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(clean)
	if err != nil || len(raw) < 10 {
		return nil, Invalid(FieldMFASecret, "the MFA secret must be base32 of at least 80 bits")
	}
	return raw, nil
}
