package iamd_test

import (
	"strings"
	"testing"

	"iamd"
)

func validUser() iamd.User {
	return iamd.User{LoginName: "johndoe", Status: iamd.UserActive}
}

func TestUserValidate(t *testing.T) {
	cases := []struct {
		name      string
		change    func(*iamd.User)
		wantField string // "" means valid
	}{
		{"minimal", func(*iamd.User) {}, ""},
		{"seed user", func(u *iamd.User) {
			u.DisplayName, u.Email, u.PhoneCountryCode, u.PhoneNumber = "John Doe", "john.doe@example.com", "+82", "010-1234-5678"
			u.TimeZone, u.EmployeeNumber, u.Department = "Asia/Seoul", "emp-12345", "Department X"
		}, ""},
		{"korean name", func(u *iamd.User) { u.DisplayName = strings.Repeat("김", iamd.MaxNameLen) }, ""},
		{"name one rune too long", func(u *iamd.User) { u.DisplayName = strings.Repeat("김", iamd.MaxNameLen+1) }, iamd.FieldDisplayName},
		{"login missing", func(u *iamd.User) { u.LoginName = "" }, iamd.FieldLoginName},
		{"login padded", func(u *iamd.User) { u.LoginName = " john" }, iamd.FieldLoginName},
		{"login control char", func(u *iamd.User) { u.LoginName = "jo\x00hn" }, iamd.FieldLoginName},
		{"bad utf8", func(u *iamd.User) { u.Department = "a\xffb" }, iamd.FieldDepartment},
		{"email no domain dot", func(u *iamd.User) { u.Email = "john@localhost" }, iamd.FieldEmail},
		{"email display name", func(u *iamd.User) { u.Email = "John <john@example.com>" }, iamd.FieldEmail},
		{"email garbage", func(u *iamd.User) { u.Email = "not an email" }, iamd.FieldEmail},
		{"calling code no plus", func(u *iamd.User) { u.PhoneCountryCode = "82" }, iamd.FieldPhoneCountryCode},
		{"calling code too long", func(u *iamd.User) { u.PhoneCountryCode = "+8212" }, iamd.FieldPhoneCountryCode},
		{"calling code leading zero", func(u *iamd.User) { u.PhoneCountryCode = "+0" }, iamd.FieldPhoneCountryCode},
		{"phone letters", func(u *iamd.User) { u.PhoneNumber = "010-CALL-ME" }, iamd.FieldPhoneNumber},
		{"phone too short", func(u *iamd.User) { u.PhoneNumber = "12" }, iamd.FieldPhoneNumber},
		{"phone too long", func(u *iamd.User) { u.PhoneNumber = "1234567890123456" }, iamd.FieldPhoneNumber},
		{"zone unknown", func(u *iamd.User) { u.TimeZone = "Mars/Olympus" }, iamd.FieldTimeZone},
		{"zone Local", func(u *iamd.User) { u.TimeZone = "Local" }, iamd.FieldTimeZone},
		{"zone path", func(u *iamd.User) { u.TimeZone = "../../etc/passwd" }, iamd.FieldTimeZone},
		{"status unknown", func(u *iamd.User) { u.Status = "deleted" }, iamd.FieldStatus},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := validUser()
			c.change(&u)
			err := u.Validate()
			if c.wantField == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if iamd.ErrorCode(err) != iamd.EINVALID || iamd.ErrorField(err) != c.wantField {
				t.Fatalf("want EINVALID on %s, got %v", c.wantField, err)
			}
			if iamd.ErrorMessage(err) == "" {
				t.Fatal("an invalid field must come with a message")
			}
		})
	}
}

func TestLoginKeyFoldsCase(t *testing.T) {
	if iamd.LoginKey("JohnDoe") != iamd.LoginKey("johndoe") {
		t.Fatal("login keys must compare case-insensitively")
	}
	if iamd.LoginKey("john") == iamd.LoginKey("joan") {
		t.Fatal("different logins must keep different keys")
	}
}

func TestUserUpdateApply(t *testing.T) {
	u := validUser()
	u.Email, u.EmailVerified, u.Department, u.Manager = "a@example.com", true, "Sales", "Alice"
	empty, dept := "", "R&D"
	(&iamd.UserUpdate{Department: &dept, Manager: &empty}).Apply(&u)
	if u.Department != "R&D" || u.Manager != "" || u.Email != "a@example.com" || !u.EmailVerified {
		t.Fatalf("absent fields must stay, set fields change, empty clears: %+v", u)
	}
	mail := "b@example.com"
	(&iamd.UserUpdate{Email: &mail}).Apply(&u)
	if u.EmailVerified {
		t.Fatal("a changed email is no longer verified")
	}
}

func TestPrincipalScope(t *testing.T) {
	p := &iamd.Principal{InstanceID: "a", Privileges: []string{iamd.PrivilegeUserRead}}
	if !p.Can("a", iamd.PrivilegeUserRead) || p.Can("a", iamd.PrivilegeUserWrite) || p.Can("b", iamd.PrivilegeUserRead) {
		t.Fatal("a principal holds exactly its privileges on its own instance")
	}
	if p.Sees("b") || !p.Sees("a") {
		t.Fatal("a principal sees only its own instance")
	}
	admin := &iamd.Principal{InstanceID: "a", PlatformAdmin: true}
	if !admin.Can("b", iamd.PrivilegeUserDelete) || !admin.Sees("b") {
		t.Fatal("a platform admin acts on every instance")
	}
	var none *iamd.Principal
	if none.Can("a", iamd.PrivilegeUserRead) || none.Sees("a") {
		t.Fatal("no principal, no access")
	}
}

func TestErrorHelpers(t *testing.T) {
	err := iamd.Invalid(iamd.FieldEmail, "email must be an email address")
	if iamd.ErrorCode(err) != iamd.EINVALID || iamd.ErrorField(err) != iamd.FieldEmail {
		t.Fatal(err)
	}
	other := strings.NewReader("").UnreadByte() // any non-domain error
	if iamd.ErrorCode(other) != iamd.EINTERNAL || iamd.ErrorMessage(other) != "Internal error." {
		t.Fatal("non-domain errors are internal and hide their text")
	}
	if iamd.ErrorCode(nil) != "" {
		t.Fatal("nil has no code")
	}
}

func TestNewID(t *testing.T) {
	a, b := iamd.NewID(), iamd.NewID()
	if len(a) != 32 || strings.Trim(a, "0123456789abcdef") != "" || a == b {
		t.Fatalf("ids must be distinct 32 lowercase hex: %q %q", a, b)
	}
}

func TestSplitCallingCode(t *testing.T) {
	for _, c := range []struct{ in, code, rest string }{
		{"+82 10-1234-5678", "+82", "10-1234-5678"},
		{"+15550100", "+1", "5550100"},
		{"tel:+1-201-555-0123", "+1", "201-555-0123"},
		{"+44 20 7946 0958", "+44", "20 7946 0958"},
		{"+852 2123 4567", "+852", "2123 4567"},
		{"+7 495 123-45-67", "+7", "495 123-45-67"},
		{"+380441234567", "+380", "441234567"},
	} {
		code, rest, ok := iamd.SplitCallingCode(c.in)
		if !ok || code != c.code || rest != c.rest {
			t.Errorf("SplitCallingCode(%q) = %q, %q, %v; want %q, %q", c.in, code, rest, ok, c.code, c.rest)
		}
		if err := iamd.CheckCallingCode(iamd.FieldPhoneCountryCode, code); err != nil {
			t.Errorf("%q: %v", code, err)
		}
	}
	for _, bad := range []string{"010-1234-5678", "+", "+0123", "", "+8"} {
		if _, _, ok := iamd.SplitCallingCode(bad); ok {
			t.Errorf("SplitCallingCode(%q) split", bad)
		}
	}
}

func TestKnownCallingCodeAndMobileNumbers(t *testing.T) {
	for code, want := range map[string]bool{"+1": true, "+7": true, "+82": true, "+44": true, "+852": true, "+380": true,
		"+2": false, "+28": false, "+999": false, "+384": false, "82": false, "+0": false} {
		if got := iamd.KnownCallingCode(code); got != want {
			t.Errorf("KnownCallingCode(%q) = %v", code, got)
		}
	}
	for _, c := range []struct {
		code, number string
		ok           bool
	}{
		{"+82", "010-1234-5678", true}, {"+82", "10 1234 5678", true}, {"+82", "011-123-4567", true},
		{"+82", "02-1234-5678", false}, {"+82", "010-1234", false}, {"+82", "015-1234-5678", false},
		{"+1", "415 555 0100", true}, {"+1", "12", false},
	} {
		if err := iamd.CheckMobileNumber(iamd.FieldPhoneNumber, c.code, c.number); (err == nil) != c.ok {
			t.Errorf("CheckMobileNumber(%q, %q) = %v", c.code, c.number, err)
		}
	}
}
