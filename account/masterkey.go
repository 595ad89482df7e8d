// Package account holds iamd's credentials: the master key that encrypts secrets at rest,
// argon2id password hashes, access key pairs checked by HMAC, bearer API tokens, and the
// first-start bootstrap of the administrator.
package account

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MasterKey encrypts the secrets that must be kept in clear form (HMAC secret keys). It
// lives outside the database: in IAMD_MASTER_KEY or a 0600 file in the data directory.
type MasterKey [32]byte

// MasterKeyFile is the key's file name in the data directory.
const MasterKeyFile = "master.key"

// LoadMasterKey returns the key given in fromEnv (base64 or 64 hex digits), else the one in
// dataDir/master.key, creating that file with a fresh key on first start.
func LoadMasterKey(dataDir, fromEnv string) (MasterKey, error) {
	if fromEnv != "" {
		k, err := parseMasterKey(fromEnv)
		if err != nil {
			return MasterKey{}, fmt.Errorf("IAMD_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	if k, err := readMasterKey(path); !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return MasterKey{}, err
	}
	var k MasterKey
	rand.Read(k[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readMasterKey(path) // another process made it first
	} else if err != nil {
		return MasterKey{}, err
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(k[:]) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return MasterKey{}, err
	}
	return k, nil
}

func readMasterKey(path string) (MasterKey, error) {
	info, err := os.Stat(path)
	if err != nil {
		return MasterKey{}, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return MasterKey{}, fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, info.Mode().Perm())
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return MasterKey{}, err
	}
	k, err := parseMasterKey(string(text))
	if err != nil {
		return MasterKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// parseMasterKey accepts 32 bytes as base64 (standard or URL alphabet, padded or not) or
// hex. Errors never repeat the value.
func parseMasterKey(s string) (MasterKey, error) {
	s = strings.TrimSpace(s)
	var k MasterKey
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			copy(k[:], b)
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == len(k) {
			copy(k[:], b)
			return k, nil
		}
	}
	return k, errors.New("the master key must be 32 bytes, written as base64 or 64 hex digits")
}

// sealVersion prefixes sealed data so that the format can change later.
const sealVersion = 1

// Seal encrypts plaintext with AES-256-GCM. aad binds the ciphertext to its row (the
// access key id), so it cannot be copied to another key and still open.
func (k *MasterKey) Seal(plaintext []byte, aad string) ([]byte, error) {
	gcm, err := k.aead()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+gcm.NonceSize(), 1+gcm.NonceSize()+len(plaintext)+gcm.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:])
	return gcm.Seal(out, out[1:1+gcm.NonceSize()], plaintext, []byte(aad)), nil
}

// Open decrypts what Seal produced with the same aad.
func (k *MasterKey) Open(sealed []byte, aad string) ([]byte, error) {
	gcm, err := k.aead()
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+gcm.NonceSize()+gcm.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("sealed secret is malformed")
	}
	nonce, body := sealed[1:1+gcm.NonceSize()], sealed[1+gcm.NonceSize():]
	plain, err := gcm.Open(nil, nonce, body, []byte(aad))
	if err != nil {
		return nil, errors.New("sealed secret does not open under this master key")
	}
	return plain, nil
}

func (k *MasterKey) aead() (cipher.AEAD, error) {
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
