package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesTest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pat := write("pattern.json", `{"source":["aws.s3"],"detail":{"eventName":["DeleteBucket"]}}`)
	bad := write("bad.json", `{"detail":{"c-count":[{"numeric":[">",0,">",0]}]}}`)
	hit := write("hit.json", `{"source":"aws.s3","detail":{"eventName":"DeleteBucket"}}`)
	miss := write("miss.json", `{"source":"aws.s3","detail":{"eventName":"CreateBucket"}}`)
	broken := write("broken.json", `{"source":`)

	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"match", []string{"rules", "test", "--pattern", pat, "--event", hit}, 0, "match\n", ""},
		{"no match", []string{"rules", "test", "--pattern", pat, "--event", miss}, 1, "no match\n", ""},
		{"invalid pattern", []string{"rules", "test", "--pattern", bad, "--event", hit}, 2, "",
			"error: Event pattern is not valid. Reason: Bad numeric range operator: >\n"},
		{"malformed event", []string{"rules", "test", "--pattern", pat, "--event", broken}, 2, "", "error: event "},
		{"missing file", []string{"rules", "test", "--pattern", filepath.Join(dir, "nope.json"), "--event", hit}, 2, "", "error: read pattern"},
		{"missing flag", []string{"rules", "test", "--pattern", pat}, 2, "", "error: both --pattern and --event are required"},
		{"unknown flag", []string{"rules", "test", "--pattern", pat, "--event", hit, "--nope"}, 2, "", "error: unknown flag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(context.Background(), c.args, strings.NewReader(""), &out, &errOut)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, errOut.String())
			}
			if out.String() != c.stdout {
				t.Errorf("stdout %q, want %q", out.String(), c.stdout)
			}
			if c.stderr == "" && errOut.Len() != 0 {
				t.Errorf("stderr %q, want none", errOut.String())
			}
			if c.stderr != "" && !strings.HasPrefix(errOut.String(), c.stderr) {
				t.Errorf("stderr %q, want prefix %q", errOut.String(), c.stderr)
			}
		})
	}
}
