package iampolicy

import "testing"

// FuzzForResource feeds arbitrary Task resources: no panic, and an aws-sdk
// resource that maps yields well-formed actions.
func FuzzForResource(f *testing.F) {
	for _, s := range []string{"arn:aws:states:::aws-sdk:ec2:deleteVolume", "arn:aws:states:::aws-sdk:s3:putPublicAccessBlock.waitForTaskToken",
		"arn:aws:states:::states:startExecution.sync:2", "steward:tag", "arn:aws:lambda:x", "arn:aws:states:::aws-sdk::", "arn:aws:states:::aws-sdk:ec2:\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, resource string) {
		acts, _, err := ForResource(resource)
		if err != nil {
			return
		}
		for _, a := range acts {
			if a == "" {
				t.Fatalf("%q: empty action", resource)
			}
		}
	})
}

// FuzzFromDefinition feeds arbitrary definitions through the parser and
// the walk: no panic.
func FuzzFromDefinition(f *testing.F) {
	f.Add([]byte(ebsLike))
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ec2:x","End":true}}}`))
	f.Add([]byte(`{"StartAt":"A","States":{"A":{"Type":"Map","ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"steward:tag","End":true}}},"End":true}}}`))
	f.Fuzz(func(t *testing.T, def []byte) {
		_, _ = FromDefinition(def)
	})
}

// BenchmarkFromDefinition measures deriving the permissions of a
// playbook-sized definition (parse, validate, walk, map).
func BenchmarkFromDefinition(b *testing.B) {
	def := []byte(ebsLike)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := FromDefinition(def); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkActions measures mapping one aws-sdk call to IAM actions.
func BenchmarkActions(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Actions("s3", "putPublicAccessBlock"); err != nil {
			b.Fatal(err)
		}
	}
}
