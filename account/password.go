package account

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on parameters read from stored or imported hashes, so that a hostile hash cannot
// make a verification allocate or spin without end.
const (
	maxArgonMemory  = 256 * 1024 // KiB
	maxArgonTime    = 10
	maxArgonThreads = 16
	maxArgonBytes   = 128
)

// HashPassword returns the argon2id hash of pw as a PHC string.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches the PHC string phc. A malformed hash is an error.
func VerifyPassword(phc, pw string) (bool, error) {
	h, err := parseArgon2id(phc)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(pw), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1, nil
}

type argon2idHash struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

var errMalformedHash = errors.New("password hash is not a valid argon2id PHC string")

func parseArgon2id(phc string) (*argon2idHash, error) {
	parts := strings.Split(phc, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, errMalformedHash
	}
	var h argon2idHash
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return nil, errMalformedHash
	}
	for i, name := range []string{"m", "t", "p"} {
		val, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return nil, errMalformedHash
		}
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil || n == 0 {
			return nil, errMalformedHash
		}
		switch name {
		case "m":
			h.memory = uint32(n)
		case "t":
			h.time = uint32(n)
		case "p":
			if n > maxArgonThreads {
				return nil, errMalformedHash
			}
			h.threads = uint8(n)
		}
	}
	if h.memory > maxArgonMemory || h.time > maxArgonTime || h.memory < 8*uint32(h.threads) {
		return nil, errMalformedHash
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(h.salt) < 8 || len(h.salt) > maxArgonBytes {
		return nil, errMalformedHash
	}
	if h.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > maxArgonBytes {
		return nil, errMalformedHash
	}
	return &h, nil
}
