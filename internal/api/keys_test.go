package api

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAccessKeys(t *testing.T) {
	noEnv := func(string) string { return "" }
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := LoadAccessKey(dir, noEnv); !errors.Is(err, ErrNoAccessKey) {
		t.Fatalf("empty dir: %v", err)
	}
	k, created, err := LoadOrCreateAccessKey(dir, noEnv)
	if err != nil || !created || len(k.AccessKeyID) != 20 || !strings.HasPrefix(k.AccessKeyID, "STW") || len(k.SecretAccessKey) != 40 {
		t.Fatalf("create: %+v %v %v", k, created, err)
	}
	fi, err := os.Stat(filepath.Join(dir, AccessKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", err, fi.Mode())
	}
	again, created, err := LoadOrCreateAccessKey(dir, noEnv)
	if err != nil || created || again != k {
		t.Fatalf("second start: %+v %v %v", again, created, err)
	}
	env := map[string]string{EnvAccessKeyID: "STWFROMENV", EnvSecretAccessKey: "s3cret"}
	fromEnv, created, err := LoadOrCreateAccessKey(dir, func(k string) string { return env[k] })
	if err != nil || created || fromEnv.AccessKeyID != "STWFROMENV" || fromEnv.SecretAccessKey != "s3cret" {
		t.Fatalf("env: %+v %v %v", fromEnv, created, err)
	}
	delete(env, EnvSecretAccessKey)
	if _, err := LoadAccessKey(dir, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "set both") {
		t.Fatalf("half a key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, AccessKeyFile), []byte(`{"accessKeyId": ""}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateAccessKey(dir, noEnv); err == nil || errors.Is(err, ErrNoAccessKey) {
		t.Fatalf("damaged key file must be an error, not replaced: %v", err)
	}
	k1, _ := NewAccessKey()
	k2, _ := NewAccessKey()
	if k1 == k2 {
		t.Fatal("two keys alike")
	}
}
