package wire_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"iamd"
	"iamd/face/wire"
)

func TestPaging(t *testing.T) {
	p := wire.Paging{DefaultSize: 20, MaxSize: 100}
	for _, c := range []struct {
		page, size     string
		offset, pg, sz int
		bad            string
	}{
		{"", "", 0, 0, 20, ""},
		{"3", "10", 30, 3, 10, ""},
		{"-1", "", 0, 0, 0, "page"},
		{"x", "", 0, 0, 0, "page"},
		{"", "0", 0, 0, 0, "size"},
		{"", "101", 0, 0, 0, "size"},
		{"9223372036854775807", "100", 0, 0, 0, "page"}, // page × size would overflow
		{"21474836", "100", 2147483600, 21474836, 100, ""},
		{"21474837", "100", 0, 0, 0, "page"},
	} {
		offset, pg, sz, err := p.Read(c.page, c.size)
		var pe *wire.PageError
		switch {
		case c.bad == "" && (err != nil || offset != c.offset || pg != c.pg || sz != c.sz):
			t.Errorf("page %q size %q: %d %d %d %v, want %d %d %d", c.page, c.size, offset, pg, sz, err, c.offset, c.pg, c.sz)
		case c.bad != "" && (!errors.As(err, &pe) || pe.Param != c.bad):
			t.Errorf("page %q size %q: %v, want a bad %s", c.page, c.size, err, c.bad)
		}
	}
}

func TestJSONWrite(t *testing.T) {
	j := wire.JSON{ContentType: "application/scim+json", InternalError: []byte(`{"detail":"Internal error."}`)}
	rec := httptest.NewRecorder()
	j.Write(rec, http.StatusCreated, map[string]string{"token": "secret"})
	if rec.Code != http.StatusCreated || rec.Header().Get("Cache-Control") != "no-store" ||
		rec.Header().Get("Content-Type") != "application/scim+json" || rec.Header().Get("X-Content-Type-Options") != "nosniff" ||
		strings.TrimSpace(rec.Body.String()) != `{"token":"secret"}` {
		t.Fatalf("answer: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	j.Write(rec, http.StatusOK, func() {}) // cannot be encoded
	if rec.Code != http.StatusInternalServerError || strings.TrimSpace(rec.Body.String()) != `{"detail":"Internal error."}` {
		t.Fatalf("unencodable answer: %d %s", rec.Code, rec.Body)
	}
}

func TestReadBody(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 100)))
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 10)
	if _, err := wire.ReadBody(r); iamd.ErrorCode(err) != iamd.ETOOLARGE {
		t.Fatalf("a body over the limit: %v", err)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
	if body, err := wire.ReadBody(r); err != nil || string(body) != "{}" {
		t.Fatalf("ReadBody = %q, %v", body, err)
	}
}

func TestReadBodyRefusesWhatNoJSONTextHolds(t *testing.T) {
	read := func(body string) error {
		_, err := wire.ReadBody(httptest.NewRequest("POST", "/", strings.NewReader(body)))
		return err
	}
	for body, field := range map[string]string{
		`{"loginId":"a","loginId":"b"}`:                       "loginId",
		`{"userProfile":{"email":"a","email":"b"}}`:           "userProfile.email",
		`{"params":[{"a":1},{"b":[1,{"c":2}],"b":3}]}`:        "params[1].b",
		`{"params":[{"a":1},{"b":[1,{"c":2,"c":3}]}]}`:        "params[1].b[1].c",
		`{"a":{"x":1},"b":{"x":1},"a2":[{"x":1},{"x":1}]}`:    "",
		`{"Operations":[{"op":"add","value":{"k":1,"K":2}}]}`: "",
		`[1,2,{"a":1}]`:   "",
		`{"a":`:           "",
		`not json at all`: "",
		``:                "",
	} {
		err := read(body)
		var be *wire.BodyError
		switch {
		case field == "" && err != nil:
			t.Errorf("%s: %v", body, err)
		case field != "" && (!errors.As(err, &be) || be.Field != field || be.Malformed):
			t.Errorf("%s: %#v, want the field %s", body, err, field)
		}
	}
	var be *wire.BodyError
	if err := read("{\"firstName\":\"\xff\xfe\"}"); !errors.As(err, &be) || !be.Malformed {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

// BenchmarkReadBody is what ReadBody's JSON-text checks cost on a typical create body.
func BenchmarkReadBody(b *testing.B) {
	body := `{"userKey":{"username":"jane","authenticator":"local"},"password":"a long enough passphrase 5","orgId":"org-1",
		"email":"jane@example.com","enabled":true,"firstName":"Jane","lastName":"Doe","primaryPhone":"010-1234-5678",
		"primaryPhoneCountryCode":"82","timeZone":"Asia/Seoul","locale":"ko-KR","roles":[{"name":"iamd_viewer"}]}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wire.ReadBody(httptest.NewRequest("POST", "/", strings.NewReader(body))); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRepeatedNamesWrittenWithEscapes(t *testing.T) {
	_, err := wire.ReadBody(httptest.NewRequest("POST", "/", strings.NewReader(`{"a\"b":1,"x":{"k":"}\"{","k\u0000":2},"a\u0022b":3}`)))
	var be *wire.BodyError
	if !errors.As(err, &be) || be.Field != `a"b` {
		t.Fatalf("%#v", err)
	}
}

// hasRepeatedName is the slow, plain reading of "a name twice in one object": the
// decoder's own tokens, for FuzzReadBody to hold the scanner to.
func hasRepeatedName(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type level struct {
		names  map[string]bool
		isName bool
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{':
				stack = append(stack, &level{names: map[string]bool{}, isName: true})
				continue
			case '[':
				stack = append(stack, &level{})
				continue
			}
			stack = stack[:len(stack)-1]
		case string:
			if n := len(stack); n > 0 && stack[n-1].names != nil && stack[n-1].isName {
				if stack[n-1].names[tok] {
					return true
				}
				stack[n-1].names[tok], stack[n-1].isName = true, false
				continue
			}
		}
		if n := len(stack); n > 0 && stack[n-1].names != nil {
			stack[n-1].isName = true
		}
	}
}

// FuzzReadBody: on valid JSON, ReadBody finds a repeated name exactly when the decoder's
// tokens show one; on anything, it never panics.
func FuzzReadBody(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":{"b":[1,{"c":1,"c":2}]}}`, `{"a\u0062":1,"ab":2}`, `[{"a":1},{"a":1}]`,
		`{"k":"}\"{","k2":1}`, `{`, `"x"`, "{\"\xff\":1}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := wire.ReadBody(httptest.NewRequest("POST", "/", bytes.NewReader(body)))
		if !json.Valid(body) || !utf8.Valid(body) { // json.Valid takes bytes that are not UTF-8; ReadBody does not
			return
		}
		var be *wire.BodyError
		found := errors.As(err, &be) && !be.Malformed
		if found != hasRepeatedName(body) {
			t.Fatalf("%q: ReadBody %v, the decoder's tokens say %v", body, err, hasRepeatedName(body))
		}
	})
}
