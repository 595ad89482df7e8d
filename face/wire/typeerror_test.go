package wire_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"iamd/face/wire"
)

type item struct {
	Name string `json:"name"`
}

type inner struct {
	Username string `json:"username"`
}

type embedded struct {
	Locale string `json:"locale"`
}

type body struct {
	embedded
	Key      *inner          `json:"userKey"`
	Roles    *[]item         `json:"roles"`
	Grid     [][]item        `json:"grid"`
	OrgIDs   []string        `json:"orgIds"`
	Enabled  *bool           `json:"enabled"`
	Size     int             `json:"size"`
	Ratio    float64         `json:"ratio"`
	At       *time.Time      `json:"at"`
	Raw      []byte          `json:"raw"`
	Extra    map[string]item `json:"extra"`
	Counts   map[string]int  `json:"counts"`
	Any      any             `json:"any"`
	Untagged string
}

// TypeError says a JSON type error in JSON's words: the field as the body spells it (its
// arrays' items marked) and the JSON value expected; never a Go type.
func TestTypeError(t *testing.T) {
	for _, c := range []struct{ body, field, want string }{
		{`[]`, "", "an object"},
		{`"x"`, "", "an object"},
		{`{"userKey":"x"}`, "userKey", "an object"},
		{`{"userKey":{"username":5}}`, "userKey.username", "a string"},
		{`{"USERKEY":{"Username":true}}`, "userKey.username", "a string"},
		{`{"roles":{}}`, "roles", "an array"},
		{`{"roles":[5]}`, "roles[]", "an object"},
		{`{"roles":[{"name":5}]}`, "roles[].name", "a string"},
		{`{"grid":[[{"name":[]}]]}`, "grid[][].name", "a string"},
		{`{"grid":[[5]]}`, "grid[][]", "an object"},
		{`{"grid":[5]}`, "grid[]", "an array"},
		{`{"orgIds":[1]}`, "orgIds[]", "a string"},
		{`{"orgIds":"a"}`, "orgIds", "an array"},
		{`{"enabled":"yes"}`, "enabled", "true or false"},
		{`{"size":1.5}`, "size", "a whole number"},
		{`{"size":"1"}`, "size", "a whole number"},
		{`{"ratio":"1"}`, "ratio", "a number"},
		{`{"raw":5}`, "raw", "a string"},
		{`{"extra":{"k":{"name":5}}}`, "extra.name", "a string"}, // json names no map key,
		{`{"counts":{"k":"x"}}`, "counts", "a whole number"},
		{`{"locale":5}`, "locale", "a string"},
		{`{"Untagged":5}`, "Untagged", "a string"},
	} {
		var v body
		err := json.Unmarshal([]byte(c.body), &v)
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			t.Fatalf("%s: %v is not a type error", c.body, err)
		}
		field, want := wire.TypeError(typeErr, &v)
		if field != c.field || want != c.want {
			t.Errorf("%s: %q %q, want %q %q", c.body, field, want, c.field, c.want)
		}
		for _, goWord := range []string{"wire_test", "[]item", "int", "bool", "float", "map[", "struct"} {
			if strings.Contains(want, goWord) || strings.Contains(field, goWord) {
				t.Errorf("%s: %q %q says %q", c.body, field, want, goWord)
			}
		}
		// Without the target, the path is json's own.
		if field, want := wire.TypeError(typeErr, nil); field != typeErr.Field || want != c.want {
			t.Errorf("%s without the target: %q %q", c.body, field, want)
		}
	}
}
