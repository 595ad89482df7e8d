package iamd

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{"MFAEnabled": "mfa_enabled", "ExternalID": "external_id",
		"APIDenied": "api_denied", "TimeZone": "time_zone", "Email": "email", "SSO": "sso"} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%s) = %s, want %s", in, got, want)
		}
	}
}

// Every field a change can set is named when it alone changes, so a field added to User
// is audited unless it is listed as unaudited on purpose.
func TestChangedFieldsNameEachField(t *testing.T) {
	typ := reflect.TypeFor[User]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		var cur, next User
		v := reflect.ValueOf(&next).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int, reflect.Int64:
			v.SetInt(1)
		case reflect.Pointer:
			now := time.Now()
			v.Set(reflect.ValueOf(&now))
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		case reflect.Struct:
			v.Set(reflect.ValueOf(time.Now()))
		default:
			t.Fatalf("field %s: kind %s not covered", f.Name, v.Kind())
		}
		got := ChangedFields(&cur, &next)
		if unaudited[f.Name] {
			if len(got) != 0 {
				t.Errorf("%s is unaudited but named: %v", f.Name, got)
			}
			continue
		}
		if len(got) != 1 || got[0] == "" {
			t.Errorf("changing %s alone names %v", f.Name, got)
		}
	}
	cur := User{DisplayName: "a", PasswordHash: "h1"}
	next := User{DisplayName: "b", PasswordHash: "h2", Version: 9}
	if got := ChangedFields(&cur, &next); !slices.Equal(got, []string{FieldDisplayName, FieldPassword}) {
		t.Errorf("ChangedFields = %v", got)
	}
}
