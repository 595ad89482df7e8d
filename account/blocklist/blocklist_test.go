package blocklist_test

import (
	"crypto/rand"
	"testing"

	"iamd/account/blocklist"
)

func TestCommonPasswords(t *testing.T) {
	for _, pw := range []string{
		// The examples: listed, listed with leet, listed with a tail.
		"password123", "p@ssw0rd", "admin123", "Password123!", "qwerty12345",
		// Near the top of every breach corpus.
		"123456", "password", "12345678", "qwerty", "iloveyou", "monkey", "dragon", "letmein", "football", "sunshine",
		"princess", "trustno1", "baseball", "welcome", "shadow", "superman", "michael",
		// Case, leet and tails together.
		"PASSWORD", "Pa$$w0rd", "P@ssw0rd2024!", "Monkey1!", "S3cur1ty", "Dragon#99", "Welcome2!",
	} {
		if !blocklist.Common(pw) {
			t.Errorf("%q is not found", pw)
		}
	}
}

func TestUncommonPasswords(t *testing.T) {
	for _, pw := range []string{
		"correct horse battery staple", "violet staple kettle morning", "a long enough passphrase 9",
		"Tr0ub4dor&3x!qZ", "monkey8472619305", // a listed word with a long random tail is not the word
	} {
		if blocklist.Common(pw) {
			t.Errorf("%q is taken for a common password", pw)
		}
	}
}

// The filter's false positives stay near its design rate: random passwords, which no
// list holds, are refused about twice in a million (two forms compared each).
func TestFalsePositiveRate(t *testing.T) {
	const n = 200_000
	alphabet := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	buf := make([]byte, 14)
	hits := 0
	for range n {
		rand.Read(buf)
		for i := range buf {
			buf[i] = alphabet[int(buf[i])%len(alphabet)]
		}
		if blocklist.Common(string(buf)) {
			hits++
		}
	}
	// Expected 0.4 at the design rate; 5 would be more than ten times it.
	if hits >= 5 {
		t.Fatalf("%d of %d random passwords taken for common ones", hits, n)
	}
}

func TestFilterFile(t *testing.T) {
	f := blocklist.NewFilter(100, 0.01)
	f.Add("x")
	data, _ := f.MarshalBinary()
	g, err := blocklist.Unmarshal(data)
	if err != nil || !g.Has("x") {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("not a filter at all"), data[:len(data)-1]} {
		if _, err := blocklist.Unmarshal(bad); err == nil {
			t.Errorf("Unmarshal accepted %d bytes of garbage", len(bad))
		}
	}
}
