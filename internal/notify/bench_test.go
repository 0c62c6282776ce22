package notify

import (
	"fmt"
	"testing"
)

// BenchmarkBatch groups 10,000 notices for 500 owners.
func BenchmarkBatch(b *testing.B) {
	var ns []Notice
	for i := 0; i < 10000; i++ {
		ns = append(ns, notice(fmt.Sprint(i), "ebs-unused", Recipient{KindEmail, fmt.Sprintf("owner%d@example.com", i%500)}))
	}
	b.ReportAllocs()
	for b.Loop() {
		Batch(ns)
	}
}
