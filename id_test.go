package iamd_test

import (
	"testing"

	"iamd"
)

func TestIDForms(t *testing.T) {
	id := iamd.NewID()
	if !iamd.IsID(id) || iamd.UUIDForm(id) == id || len(iamd.UUIDForm(id)) != 36 {
		t.Fatalf("NewID %q, UUID form %q", id, iamd.UUIDForm(id))
	}
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{id, id, true},
		{iamd.UUIDForm(id), id, true},
		{"138C2FC8-C29A-449D-BFA8-681F8F1D78E2", "138c2fc8c29a449dbfa8681f8f1d78e2", true},
		{"138c2fc8c29a449dbfa8681f8f1d78e", "", false},
		{"138c2fc8-c29a449d-bfa8-681f8f1d78e2", "", false},
		{"zz8c2fc8c29a449dbfa8681f8f1d78e2", "", false},
		{"", "", false},
	} {
		got, ok := iamd.ParseID(c.in)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("ParseID(%q) = %q, %v", c.in, got, ok)
		}
	}
	if iamd.UUIDForm("not-an-id") != "not-an-id" {
		t.Error("UUIDForm changed what is not an id")
	}
}
