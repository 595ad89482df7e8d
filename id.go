package iamd

import (
	"encoding/hex"

	"github.com/google/uuid"
)

// NewID returns a fresh id: a UUIDv7 as 32 lowercase hex characters (SCP's user id
// form). Version 7 ids grow with time, so inserts land at the end of the primary-key
// index instead of all over it.
func NewID() string {
	id := uuid.Must(uuid.NewV7())
	return hex.EncodeToString(id[:])
}
