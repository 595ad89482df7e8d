package account

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are argon2id's cost parameters for new hashes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
}

// DefaultParams are OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on parameters read from stored or imported hashes, so that a hostile hash cannot
// make a verification allocate or spin without end.
const (
	maxArgonMemory   = 256 * 1024 // KiB
	maxArgonTime     = 10
	maxArgonThreads  = 16
	maxHashBytes     = 128
	maxBcryptCost    = 16
	maxPBKDF2Rounds  = 2_000_000
	minHashBytes     = 16
	minSaltBytes     = 8
	maxStoredHashLen = 512
)

// Validate checks that p is within what VerifyPassword accepts back.
func (p Params) Validate() error {
	switch {
	case p.Time < 1 || p.Time > maxArgonTime:
		return fmt.Errorf("argon2id time must be 1 to %d", maxArgonTime)
	case p.Threads < 1 || p.Threads > maxArgonThreads:
		return fmt.Errorf("argon2id threads must be 1 to %d", maxArgonThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgonMemory:
		return fmt.Errorf("argon2id memory must be %d to %d KiB", 8*uint32(p.Threads), maxArgonMemory)
	}
	return nil
}

// Hasher hashes new passwords with argon2id and verifies every scheme iamd imports.
// Hashing is memory-hard by design, so concurrent hashes are bounded, one per core: a
// burst of sign-ins queues instead of exhausting memory, and hashes do not evict each
// other's 19 MiB from the caches (iamd bench: two per core gave 79 % of the raw hash
// rate and 210 MB peak RSS; one per core 90–96 % and 125 MB).
type Hasher struct {
	params Params
	slots  chan struct{}
}

// NewHasher returns a hasher producing argon2id hashes with p.
func NewHasher(p Params) (*Hasher, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Hasher{params: p, slots: make(chan struct{}, runtime.GOMAXPROCS(0))}, nil
}

// DefaultHasher uses DefaultParams.
var DefaultHasher, _ = NewHasher(DefaultParams)

// WorkingMemory is the most memory the hashes this hasher admits at once hold, in bytes.
func (h *Hasher) WorkingMemory() int64 {
	return int64(cap(h.slots)) * int64(h.params.Memory) * 1024
}

// Params returns the parameters new hashes get.
func (h *Hasher) Params() Params { return h.params }

func (h *Hasher) acquire() func() {
	h.slots <- struct{}{}
	return func() { <-h.slots }
}

// Hash returns the argon2id hash of pw as a PHC string.
func (h *Hasher) Hash(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	defer h.acquire()()
	key := argon2.IDKey([]byte(pw), salt, h.params.Time, h.params.Memory, h.params.Threads, argonKeyLen)
	return formatArgon("argon2id", argonHash{Params: h.params, salt: salt, key: key}), nil
}

// Verify reports whether pw matches stored, and whether stored should be replaced by a
// fresh Hash of pw: it is of another scheme, or argon2id with other parameters. A
// malformed stored hash is an error.
func (h *Hasher) Verify(stored, pw string) (ok, rehash bool, err error) {
	v, err := parseHash(stored)
	if err != nil {
		return false, false, err
	}
	defer h.acquire()()
	ok = v.verify(pw)
	a, isArgon := v.(argonHash)
	rehash = !isArgon || a.variant != "argon2id" || a.Params != h.params || len(a.key) != argonKeyLen
	return ok, rehash, nil
}

// Dummy spends what verifying a password against a current hash spends, for callers
// that have no hash to check (an unknown user) but must take the same time.
func (h *Hasher) Dummy(pw string) {
	defer h.acquire()()
	argon2.IDKey([]byte(pw), make([]byte, argonSaltLen), h.params.Time, h.params.Memory, h.params.Threads, argonKeyLen)
}

// CheckHash reports whether stored is a hash iamd can verify: argon2id or argon2i in PHC
// form, bcrypt ($2a$, $2b$, $2y$), or PBKDF2 in PHC form ($pbkdf2-sha256$ or
// $pbkdf2-sha512$, i= rounds; see KeycloakHash).
func CheckHash(stored string) error {
	_, err := parseHash(stored)
	return err
}

// HashPassword hashes pw with DefaultHasher.
func HashPassword(pw string) (string, error) { return DefaultHasher.Hash(pw) }

// VerifyPassword checks pw against stored with DefaultHasher.
func VerifyPassword(stored, pw string) (bool, error) {
	ok, _, err := DefaultHasher.Verify(stored, pw)
	return ok, err
}

var errMalformedHash = errors.New("password hash is not in a supported form (argon2id, argon2i, bcrypt, pbkdf2-sha256, pbkdf2-sha512)")

type verifier interface{ verify(pw string) bool }

func parseHash(stored string) (verifier, error) {
	if len(stored) > maxStoredHashLen {
		return nil, errMalformedHash
	}
	switch {
	case strings.HasPrefix(stored, "$argon2id$"), strings.HasPrefix(stored, "$argon2i$"):
		return parseArgon(stored)
	case strings.HasPrefix(stored, "$2a$"), strings.HasPrefix(stored, "$2b$"), strings.HasPrefix(stored, "$2y$"):
		cost, err := bcrypt.Cost([]byte(stored))
		if err != nil || cost > maxBcryptCost || len(stored) != 60 {
			return nil, errMalformedHash
		}
		return bcryptHash(stored), nil
	case strings.HasPrefix(stored, "$pbkdf2-"):
		return parsePBKDF2(stored)
	}
	return nil, errMalformedHash
}

type argonHash struct {
	Params
	variant   string
	salt, key []byte
}

func (a argonHash) verify(pw string) bool {
	derive := argon2.IDKey
	if a.variant == "argon2i" {
		derive = argon2.Key
	}
	key := derive([]byte(pw), a.salt, a.Time, a.Memory, a.Threads, uint32(len(a.key)))
	return subtle.ConstantTimeCompare(key, a.key) == 1
}

func formatArgon(variant string, a argonHash) string {
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", variant, argon2.Version, a.Memory, a.Time, a.Threads,
		base64.RawStdEncoding.EncodeToString(a.salt), base64.RawStdEncoding.EncodeToString(a.key))
}

// parseArgon reads "$argon2id$v=19$m=…,t=…,p=…$salt$key" (argon2i likewise).
func parseArgon(phc string) (argonHash, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return argonHash{}, errMalformedHash
	}
	a := argonHash{variant: parts[1]}
	params, ok := phcParams(parts[3], "m", "t", "p")
	if !ok {
		return argonHash{}, errMalformedHash
	}
	if params[2] > maxArgonThreads {
		return argonHash{}, errMalformedHash
	}
	a.Memory, a.Time, a.Threads = uint32(params[0]), uint32(params[1]), uint8(params[2])
	if a.Params.Validate() != nil {
		return argonHash{}, errMalformedHash
	}
	var err error
	if a.salt, a.key, err = saltAndKey(parts[4], parts[5]); err != nil {
		return argonHash{}, err
	}
	return a, nil
}

// phcParams reads "a=1,b=2,…" with exactly the given names in order, each a positive
// integer.
func phcParams(s string, names ...string) ([]uint64, bool) {
	fields := strings.Split(s, ",")
	if len(fields) != len(names) {
		return nil, false
	}
	out := make([]uint64, len(names))
	for i, name := range names {
		val, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return nil, false
		}
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil || n == 0 {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

func saltAndKey(salt, key string) ([]byte, []byte, error) {
	s, err := base64.RawStdEncoding.Strict().DecodeString(salt)
	if err != nil || len(s) < minSaltBytes || len(s) > maxHashBytes {
		return nil, nil, errMalformedHash
	}
	k, err := base64.RawStdEncoding.Strict().DecodeString(key)
	if err != nil || len(k) < minHashBytes || len(k) > maxHashBytes {
		return nil, nil, errMalformedHash
	}
	return s, k, nil
}

type bcryptHash string

func (b bcryptHash) verify(pw string) bool {
	// bcrypt reads at most 72 bytes; longer passwords are refused rather than truncated.
	return len(pw) <= 72 && bcrypt.CompareHashAndPassword([]byte(b), []byte(pw)) == nil
}

type pbkdf2Hash struct {
	newHash   func() hash.Hash
	rounds    int
	salt, key []byte
}

func (p pbkdf2Hash) verify(pw string) bool {
	key, err := pbkdf2.Key(p.newHash, pw, p.salt, p.rounds, len(p.key))
	return err == nil && subtle.ConstantTimeCompare(key, p.key) == 1
}

var pbkdf2Digests = map[string]func() hash.Hash{
	"pbkdf2-sha256": sha256.New,
	"pbkdf2-sha512": sha512.New,
}

// parsePBKDF2 reads "$pbkdf2-sha512$i=210000$salt$key": the PHC form, salt and key in
// unpadded standard base64, the key length implied by the key.
func parsePBKDF2(phc string) (pbkdf2Hash, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 5 {
		return pbkdf2Hash{}, errMalformedHash
	}
	digest, ok := pbkdf2Digests[parts[1]]
	params, okParams := phcParams(parts[2], "i")
	if !ok || !okParams || params[0] > maxPBKDF2Rounds {
		return pbkdf2Hash{}, errMalformedHash
	}
	salt, key, err := saltAndKey(parts[3], parts[4])
	if err != nil {
		return pbkdf2Hash{}, err
	}
	return pbkdf2Hash{newHash: digest, rounds: int(params[0]), salt: salt, key: key}, nil
}

// KeycloakHash converts a password credential as Keycloak exports it (its secretData and
// credentialData JSON strings) into the PBKDF2 PHC form CheckHash accepts.
func KeycloakHash(secretData, credentialData string) (string, error) {
	var secret struct {
		Value string `json:"value"`
		Salt  string `json:"salt"`
	}
	var cred struct {
		HashIterations int    `json:"hashIterations"`
		Algorithm      string `json:"algorithm"`
	}
	if json.Unmarshal([]byte(secretData), &secret) != nil || json.Unmarshal([]byte(credentialData), &cred) != nil {
		return "", errors.New("keycloak credential: secretData and credentialData must be JSON objects")
	}
	if _, ok := pbkdf2Digests[cred.Algorithm]; !ok {
		return "", fmt.Errorf("keycloak credential: algorithm %q is not pbkdf2-sha256 or pbkdf2-sha512", cred.Algorithm)
	}
	salt, errSalt := base64.StdEncoding.DecodeString(secret.Salt)
	key, errKey := base64.StdEncoding.DecodeString(secret.Value)
	if errSalt != nil || errKey != nil {
		return "", errors.New("keycloak credential: value and salt must be base64")
	}
	phc := fmt.Sprintf("$%s$i=%d$%s$%s", cred.Algorithm, cred.HashIterations,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	if err := CheckHash(phc); err != nil {
		return "", fmt.Errorf("keycloak credential: %w", err)
	}
	return phc, nil
}
