package iamd

import (
	"encoding/hex"
	"strings"

	"github.com/google/uuid"
)

// NewID returns a fresh id: a UUIDv7 as 32 lowercase hex characters (SCP's user id
// form). Version 7 ids grow with time, so inserts land at the end of the primary-key
// index instead of all over it.
func NewID() string {
	id := uuid.Must(uuid.NewV7())
	return hex.EncodeToString(id[:])
}

// IsID reports whether s has the form of NewID's ids: 32 lowercase hex digits.
func IsID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ParseID reads an id as NewID writes it or in UUID form (8-4-4-4-12), in either case,
// as the vendors' APIs write ids, and returns it as NewID writes it; ok is false when s
// is neither.
func ParseID(s string) (id string, ok bool) {
	if len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' {
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	s = strings.ToLower(s)
	return s, IsID(s)
}

// UUIDForm writes an id in UUID form (8-4-4-4-12); anything that is not an id stays as it is.
func UUIDForm(id string) string {
	if !IsID(id) {
		return id
	}
	return id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
}
