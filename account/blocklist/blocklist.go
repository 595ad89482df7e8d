// Package blocklist tells whether a password is one of the 100,000 most common ones of
// public breach corpora (SecLists' 10-million-password-list-top-100000, MIT), as NIST SP
// 800-63B §3.1.1.2 asks a verifier to refuse. Passwords are compared folded — lower
// case, common leet substitutions undone (p@ssw0rd is password) — and again without a
// short run of trailing digits and symbols (Password123! is password), which is how
// people make a listed password pass a composition rule.
//
// The list ships inside the binary as a Bloom filter of the folded entries
// (common-passwords.bloom: 296 KiB for the 84,273 distinct folded forms of the 100,000 entries): a listed password is always
// found; an unlisted one is taken for listed with probability about 1 in 1,000,000 per
// form compared (two at most), so about 2 in 1,000,000 good passwords are refused.
// gen/ builds the filter from the list; scripts/common-passwords.sh fetches the list.
package blocklist

import (
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"sync"
	"unicode"
)

//go:embed common-passwords.bloom
var commonPasswords []byte

var common = sync.OnceValue(func() *Filter {
	f, err := Unmarshal(commonPasswords)
	if err != nil {
		panic("blocklist: the embedded filter is corrupt: " + err.Error())
	}
	return f
})

// Common reports whether pw is a common password, folded or without its tail.
func Common(pw string) bool {
	f := common()
	for _, c := range candidates(pw) {
		if f.Has(c) {
			return true
		}
	}
	return false
}

// leet undoes the substitutions people make in common passwords.
var leet = strings.NewReplacer("@", "a", "4", "a", "8", "b", "3", "e", "6", "g", "9", "g", "1", "i", "!", "i",
	"0", "o", "5", "s", "$", "s", "7", "t", "+", "t", "2", "z")

// Fold is the form under which passwords are compared: lower case, leet undone.
func Fold(s string) string { return leet.Replace(strings.ToLower(s)) }

// maxTail is the longest run of trailing digits and symbols that comparison drops: a
// listed password with up to six of them appended is still a listed password.
const maxTail = 6

// minBase is the shortest rest of a password compared without its tail.
const minBase = 3

// Candidates are the forms of pw the filter is asked about: pw folded, and pw without
// a tail of up to maxTail digits and symbols, folded.
func candidates(pw string) []string {
	out := []string{Fold(pw)}
	lower := strings.ToLower(pw)
	base := strings.TrimRightFunc(lower, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) })
	if tail := len(lower) - len(base); tail > 0 && tail <= maxTail && len(base) >= minBase {
		out = append(out, Fold(base))
	}
	return out
}

// Filter is a Bloom filter of strings.
type Filter struct {
	m    uint64 // bits
	k    uint32 // probes per string
	bits []byte
}

// NewFilter returns an empty filter sized for n strings with a false-positive rate of p.
func NewFilter(n int, p float64) *Filter {
	m := uint64(math.Ceil(-float64(n) * math.Log(p) / (math.Ln2 * math.Ln2)))
	k := uint32(math.Round(float64(m) / float64(n) * math.Ln2))
	return &Filter{m: m, k: max(k, 1), bits: make([]byte, (m+7)/8)}
}

// probes are the filter's bit positions for s: double hashing of SHA-256 (Kirsch and
// Mitzenmacher), the same on every machine.
func (f *Filter) probes(s string, fn func(bit uint64) bool) bool {
	sum := sha256.Sum256([]byte(s))
	h1, h2 := binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])|1
	for i := range uint64(f.k) {
		if !fn((h1 + i*h2) % f.m) {
			return false
		}
	}
	return true
}

// Add puts s in the filter.
func (f *Filter) Add(s string) {
	f.probes(s, func(bit uint64) bool { f.bits[bit/8] |= 1 << (bit % 8); return true })
}

// Has reports whether s may be in the filter: always true for one added.
func (f *Filter) Has(s string) bool {
	return f.probes(s, func(bit uint64) bool { return f.bits[bit/8]&(1<<(bit%8)) != 0 })
}

const magic = "iamd-bloom-1\n"

// MarshalBinary is the filter's file form: a magic line, m and k, the bits.
func (f *Filter) MarshalBinary() ([]byte, error) {
	out := append([]byte(magic), make([]byte, 12)...)
	binary.LittleEndian.PutUint64(out[len(magic):], f.m)
	binary.LittleEndian.PutUint32(out[len(magic)+8:], f.k)
	return append(out, f.bits...), nil
}

// Unmarshal reads a filter written by MarshalBinary.
func Unmarshal(data []byte) (*Filter, error) {
	if len(data) < len(magic)+12 || string(data[:len(magic)]) != magic {
		return nil, errors.New("not an iamd Bloom filter")
	}
	f := &Filter{m: binary.LittleEndian.Uint64(data[len(magic):]), k: binary.LittleEndian.Uint32(data[len(magic)+8:]),
		bits: data[len(magic)+12:]}
	if f.m == 0 || f.k == 0 || uint64(len(f.bits)) != (f.m+7)/8 {
		return nil, errors.New("the Bloom filter's size does not match its bits")
	}
	return f, nil
}
