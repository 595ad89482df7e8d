package wire_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"iamd/face/wire"
)

var jsonStrings = []string{"", "plain", `"quoted" \ back`, "<script>&amp;</script>", "\x00\x01\b\f\n\r\t\x1f\x7f",
	"é ü 日本 🙂", "line\u2028para\u2029", "bad \xff\xfe utf-8 \xe2\x82", "\xf0\x9f\x99"}

func TestAppendStringIsEncodingJSON(t *testing.T) {
	for _, s := range jsonStrings {
		want, _ := json.Marshal(s)
		if got := wire.AppendString([]byte("x"), s); !bytes.Equal(got, append([]byte("x"), want...)) {
			t.Errorf("%q: appended %s, encoding/json writes %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := wire.AppendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: appended %s, encoding/json writes %s", s, got, want)
		}
		// Split anywhere, even inside a character, the parts join as the whole.
		for _, at := range []int{0, len(s) / 3, len(s) / 2, len(s) - 1} {
			if at < 0 || at > len(s) {
				continue
			}
			if got := wire.AppendJoined(nil, s[:at], "/", s[at:]); !bytes.Equal(got, wire.AppendString(nil, s[:at]+"/"+s[at:])) {
				t.Fatalf("%q split at %d: joined as %s", s, at, got)
			}
		}
	})
}
