package email

import (
	"fmt"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
)

// BenchmarkBuild builds one message (text + HTML) for 5 notices.
func BenchmarkBuild(b *testing.B) {
	m, _ := New(Config{Host: "127.0.0.1", From: "steward@example.com"})
	var ns []notify.Notice
	for i := 0; i < 5; i++ {
		ns = append(ns, notify.Notice{ApprovalID: fmt.Sprint(i), Playbook: "ebs-unused", Title: "Volume unattached", Action: "delete it",
			Deadline:  time.Now().Add(48 * time.Hour),
			Resources: []notify.Resource{{Account: "111111111111", Region: "us-east-1", ID: "vol-1"}, {Account: "111111111111", Region: "us-east-1", ID: "vol-2"}},
			Choices:   notify.Choices(true, func(c approve.Choice) string { return "https://steward.example.com/approve/v1.abc." + string(c) })})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Build("alice@example.com", ns); err != nil {
			b.Fatal(err)
		}
	}
}
