package iamd_test

import (
	"testing"

	"iamd"
)

func TestErrorMessageIn(t *testing.T) {
	names := map[string]string{iamd.FieldPhoneNumber: "primaryPhone", iamd.FieldEmail: "userProfile.email"}
	for _, c := range []struct {
		err  error
		want string
	}{
		{iamd.CheckPhoneNumber(iamd.FieldPhoneNumber, "12ab"), "primaryPhone may hold only digits, spaces and - . ( )"},
		{iamd.CheckEmail(iamd.FieldEmail, "nope"), "userProfile.email must be an email address like name@example.com"},
		{iamd.CheckTimeZone(iamd.FieldTimeZone, "Mars/Base"), "time zone must be an IANA time zone name like Asia/Seoul"},
		{iamd.Invalid(iamd.FieldGivenName, "given_name and family_name are both needed with phone_number"),
			"given name and family name are both needed with primaryPhone"},
		{iamd.Errorf(iamd.ENOTFOUND, "user not found"), "user not found"},
		{iamd.Errorf(iamd.ECONFLICT, "login_name %q is taken", "phone_number"), `login name "phone_number" is taken`},
		{iamd.Errorf(iamd.ECONFLICT, "login_name %q is taken by given_name", `a"phone_number`), `login name "a\"phone_number" is taken by given name`},
		{iamd.Errorf(iamd.ECONFLICT, `unclosed "phone_number`), `unclosed "phone_number`},
		{iamd.Invalid(iamd.FieldName, "name must be at most 5 characters"), "name must be at most 5 characters"},
	} {
		if got := iamd.ErrorMessageIn(c.err, names); got != c.want {
			t.Errorf("ErrorMessageIn(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestErrorDetailIn(t *testing.T) {
	names := map[string]string{iamd.FieldPhoneNumber: "primaryPhone"}
	for _, c := range []struct {
		err           error
		field, detail string
	}{
		{iamd.CheckPhoneNumber(iamd.FieldPhoneNumber, "12ab"), "primaryPhone", "may hold only digits, spaces and - . ( )"},
		{iamd.CheckTimeZone(iamd.FieldTimeZone, "Mars/Base"), "time zone", "must be an IANA time zone name like Asia/Seoul"},
		{iamd.Invalid(iamd.FieldLoginName, "login name is required"), "login name", "is required"},
		{iamd.Errorf(iamd.ENOTFOUND, "user not found"), "", "user not found"},
	} {
		if field, detail := iamd.ErrorDetailIn(c.err, names); field != c.field || detail != c.detail {
			t.Errorf("ErrorDetailIn(%v) = %q, %q; want %q, %q", c.err, field, detail, c.field, c.detail)
		}
	}
}
