package blocklist

import "testing"

func TestCandidates(t *testing.T) {
	for pw, want := range map[string][]string{
		"Password123!":   {"passwordizei", "password"},
		"p@ssw0rd":       {"password"},
		"ab123":          {"abize"},       // too short a base to compare alone
		"word1234567":    {"wordizeasgt"}, // a tail of seven is not dropped
		"correct horse!": {"correct horsei", "correct horse"},
	} {
		got := candidates(pw)
		if len(got) != len(want) {
			t.Errorf("Candidates(%q) = %q, want %q", pw, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("Candidates(%q) = %q, want %q", pw, got, want)
			}
		}
	}
}
