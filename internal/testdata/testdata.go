// Package testdata finds the outside test suites in ../shared/testdata,
// beside the repository, for tests.
package testdata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the path of a folder under ../shared/testdata, or skips the
// test with a clear message when the suites are not there.
func Dir(t testing.TB, sub ...string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Skipf("outside test suites not found: %v", err)
	}
	dir := filepath.Join(append([]string{root, "..", "shared", "testdata"}, sub...)...)
	if env := os.Getenv("STEWARD_TESTDATA"); env != "" {
		dir = filepath.Join(append([]string{env}, sub...)...)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("outside test suite %s is absent (it lives in ../shared/testdata beside the repository, or set STEWARD_TESTDATA): skipping", dir)
	}
	return dir
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
