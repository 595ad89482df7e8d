package wire_test

import (
	"errors"
	"testing"

	"iamd/face/wire"
)

func TestDecode(t *testing.T) {
	allowed := []string{"name", "flag", "list"}
	for _, c := range []struct {
		body      string
		malformed bool
		field     string
	}{
		{`{"name":"x"}{}`, true, ""},
		{`["x"]`, true, ""},
		{`null`, true, ""},
		{"{\"name\":\"\xff\"}", true, ""},
		{`{"name":"x","other":1}`, false, "other"},
	} {
		_, err := wire.DecodeObject([]byte(c.body), allowed)
		var e *wire.BodyError
		if !errors.As(err, &e) || e.Malformed != c.malformed || e.Field != c.field {
			t.Errorf("%s: %#v", c.body, err)
		}
	}
	obj, err := wire.DecodeObject([]byte(`{"name":null,"flag":true,"list":["a"]}`), allowed)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := obj.String("name"); err != nil || !s.Set || !s.Null {
		t.Fatalf("null string: %+v %v", s, err)
	}
	if _, err := obj.Required("name"); err == nil {
		t.Fatal("a null required field was accepted")
	}
	if b, err := obj.Bool("flag", false); err != nil || !b {
		t.Fatalf("bool: %v %v", b, err)
	}
	if _, err := obj.String("flag"); err == nil {
		t.Fatal("a boolean was read as a string")
	}
	if l, err := obj.Strings("list"); err != nil || len(l) != 1 {
		t.Fatalf("strings: %v %v", l, err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{`{}`, `{"name":"x","flag":true}`, `{"list":["a",1]}`, `[`, "\xff", `{"a":1}{}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		obj, err := wire.DecodeObject(body, []string{"name", "flag", "list"})
		if err != nil {
			return
		}
		obj.String("name")
		obj.Bool("flag", false)
		obj.Strings("list")
	})
}

func TestWithinNamesTheWholePath(t *testing.T) {
	obj, err := wire.DecodeObject([]byte(`{"password":7}`), []string{"password"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = obj.String("password")
	var be *wire.BodyError
	if !errors.As(wire.Within("security", err), &be) || be.Field != "security.password" || be.Message != "security.password must be a string or null." {
		t.Fatalf("%#v", be)
	}
	other := errors.New("not a body error")
	if wire.Within("security", other) != other || wire.Within("", err) != err {
		t.Fatal("Within changed what is not its to change")
	}
}
