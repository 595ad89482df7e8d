package scp

import (
	"testing"
	"time"

	"iamd/face/wire"
)

func FuzzDecodeCreate(f *testing.F) {
	f.Add([]byte(`{"instance_id":"ssoins-12345","name":"John Doe","user_id":"johndoe","group_ids":["a"],"temporary_password":true,"email":null}`))
	f.Add([]byte(`{"name":5}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"a":1} {}`))
	f.Add([]byte("{\"name\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		obj, err := wire.DecodeObject(body, createFields)
		if err != nil {
			return
		}
		decodeCreate(obj)
	})
}

func FuzzDecodeSet(f *testing.F) {
	f.Add([]byte(`{"instance_id":"ssoins-12345","name":null,"tz_id":"Asia/Seoul"}`))
	f.Add([]byte(`{"instance_id":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		obj, err := wire.DecodeObject(body, setFields)
		if err != nil {
			return
		}
		decodeSet(obj)
	})
}

func FuzzVersionHeader(f *testing.F) {
	for _, s := range []string{"iam-identity-center 1.4", "iam-identity-center v1.1", "x 1.0", "iam-identity-center 1", "iam-identity-center 99999999999999999999.1", ""} {
		f.Add(s)
	}
	face := &Face{cfg: Config{Now: func() time.Time { return time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) }, VersionPolicy: PolicyEnforce}}
	f.Fuzz(func(t *testing.T, h string) {
		v, _, err := face.negotiate(h)
		if err == nil && v.Status == StatusPlanned {
			t.Fatalf("%q selected a planned version", h)
		}
		if err == nil && v.Retired(face.cfg.Now()) {
			t.Fatalf("%q selected version %s past its Not Before date under enforce", h, v)
		}
	})
}
