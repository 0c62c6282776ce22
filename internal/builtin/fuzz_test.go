package builtin

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzParseExceptionTag(f *testing.F) {
	for _, s := range []string{"2026-06-30", "2026-06-30;reason", "2026-06-30T10:00:00Z;x", "", ";", "9999-12-31", "0000-01-01T00:00:00-23:59;r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		et, err := ParseExceptionTag(s)
		if err != nil {
			return
		}
		// Whatever parses formats to a value that parses to the same end
		// (when the reason fits).
		v := FormatExceptionTag(et.Until, et.Reason)
		if len([]rune(v)) >= 256 {
			return
		}
		back, err := ParseExceptionTag(v)
		if err != nil {
			t.Fatalf("%q → %q does not parse: %v", s, v, err)
		}
		if !back.Until.Equal(et.Until) {
			t.Fatalf("%q → %q: until %s, want %s", s, v, back.Until, et.Until)
		}
	})
}

func FuzzParseRecordIdentity(f *testing.F) {
	for _, s := range []string{
		`{"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/r/alice@example.com", "principalId": "AROA:alice@example.com"}}`,
		`{"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/bob", "userName": "bob"}}`,
		`{"userIdentity": {"type": "Root", "accountId": "1"}}`,
		`{"userIdentity": {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}}`,
		`{"detail": {"userIdentity": {"type": "FederatedUser", "arn": "arn:aws:sts::1:federated-user/x"}}}`,
		`{"userIdentity": null}`, `[]`, `{"userIdentity": {"type": 1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseRecordIdentity(b)
		if err != nil {
			return
		}
		if id.Type == "" {
			t.Fatalf("parsed an identity without a type from %q", b)
		}
		owner, person := id.Owner()
		if person && owner == "" {
			t.Fatalf("%q: a person with no name", b)
		}
	})
}

// FuzzTagsOf feeds TagsOf any JSON value, as a playbook may pass any.
func FuzzTagsOf(f *testing.F) {
	for _, s := range []string{`null`, `[{"Key":"a","Value":"b"}]`, `{"Items":[{"Key":"a","Value":1}],"Quantity":1}`, `{"a":true}`, `[{"key":"a"}]`, `{"Items":{"a":"b"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil {
			return
		}
		tags, err := TagsOf(v)
		if err == nil && tags == nil {
			t.Fatalf("%s: nil tags without an error", b)
		}
	})
}

// FuzzLocate reads resource ARNs as playbooks pass them.
func FuzzLocate(f *testing.F) {
	for _, s := range []string{"arn:aws:ec2:us-east-1:111111111111:volume/vol-1", "arn:aws:s3:::bucket", "arn:aws:iam::1:role/a/b", "arn:aws:ec2:us-east-1::snapshot/snap-1", "arn::::", "vol-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := Locate(s, map[string]any{"account": "111111111111", "region": "eu-west-1"})
		if err != nil {
			return
		}
		if w.Account == "" || w.Region == "" || w.Service == "" || w.ARN != s {
			t.Fatalf("%q: %+v", s, w)
		}
	})
}
