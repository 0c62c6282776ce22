package api

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/stewardhq/steward/internal/api/sigv4"
)

// Environment variables that hold steward's access key.
const (
	EnvAccessKeyID     = "STEWARD_ACCESS_KEY_ID"
	EnvSecretAccessKey = "STEWARD_SECRET_ACCESS_KEY"
)

// AccessKeyFile is the file in the data directory that holds the access
// key (mode 0600). It is steward's key configuration: edit it to set your
// own key, or set the environment variables, which take precedence.
const AccessKeyFile = "access-key.json"

// ErrNoAccessKey: neither the environment nor the data directory has an
// access key.
var ErrNoAccessKey = errors.New("no access key")

// AccessKey is a pair of AWS-style credentials that steward accepts.
type AccessKey struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// Keys returns the key as the verifier's key set.
func (k AccessKey) Keys() sigv4.Keys {
	return sigv4.StaticKeys{k.AccessKeyID: k.SecretAccessKey}
}

// LoadAccessKey reads the access key from the environment (getenv; both
// variables must be set) or else from dataDir/access-key.json.
// ErrNoAccessKey when there is none.
func LoadAccessKey(dataDir string, getenv func(string) string) (AccessKey, error) {
	id, secret := getenv(EnvAccessKeyID), getenv(EnvSecretAccessKey)
	switch {
	case id != "" && secret != "":
		return AccessKey{AccessKeyID: id, SecretAccessKey: secret}, nil
	case id != "" || secret != "":
		return AccessKey{}, fmt.Errorf("set both %s and %s, or neither", EnvAccessKeyID, EnvSecretAccessKey)
	}
	path := filepath.Join(dataDir, AccessKeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return AccessKey{}, fmt.Errorf("%w: %s not set and %s does not exist", ErrNoAccessKey, EnvAccessKeyID, path)
	}
	if err != nil {
		return AccessKey{}, fmt.Errorf("read access key: %w", err)
	}
	var k AccessKey
	if err := json.Unmarshal(data, &k); err != nil || k.AccessKeyID == "" || k.SecretAccessKey == "" {
		return AccessKey{}, fmt.Errorf("read access key %s: want {\"accessKeyId\": ..., \"secretAccessKey\": ...}", path)
	}
	return k, nil
}

// LoadOrCreateAccessKey is LoadAccessKey, but with no key anywhere it
// makes one, stores it in dataDir/access-key.json (mode 0600) and reports
// created.
func LoadOrCreateAccessKey(dataDir string, getenv func(string) string) (key AccessKey, created bool, err error) {
	k, err := LoadAccessKey(dataDir, getenv)
	if !errors.Is(err, ErrNoAccessKey) {
		return k, false, err
	}
	k, err = NewAccessKey()
	if err != nil {
		return AccessKey{}, false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return AccessKey{}, false, fmt.Errorf("create data directory: %w", err)
	}
	data, _ := json.MarshalIndent(k, "", "  ")
	path := filepath.Join(dataDir, AccessKeyFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process made one first: use it.
		k, err := LoadAccessKey(dataDir, getenv)
		return k, false, err
	}
	if err != nil {
		return AccessKey{}, false, fmt.Errorf("store access key: %w", err)
	}
	_, werr := f.Write(append(data, '\n'))
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return AccessKey{}, false, fmt.Errorf("store access key: %w", werr)
	}
	return k, true, nil
}

// NewAccessKey makes a random key: an id of 20 characters starting "STW"
// and a 40-character secret, shaped like AWS's.
func NewAccessKey() (AccessKey, error) {
	b := make([]byte, 11+30)
	if _, err := rand.Read(b); err != nil {
		return AccessKey{}, fmt.Errorf("make access key: %w", err)
	}
	id := "STW" + strings.ToUpper(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:11]))[:17]
	secret := base64.StdEncoding.EncodeToString(b[11:])[:40]
	return AccessKey{AccessKeyID: id, SecretAccessKey: secret}, nil
}
