package api_test

import (
	"flag"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// BenchmarkStartExecution measures StartExecution calls through the API:
// aws-sdk-go-v2's client, SigV4-signed, over loopback HTTP, to the durable
// engine on SQLite with synchronous=FULL (the production default; each
// start is committed before it is acknowledged). The executions park on a
// one-day Wait, so the figure is the API's and the store's, not the
// interpreter's.
func BenchmarkStartExecution(b *testing.B) {
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", par*2), func(b *testing.B) {
			s := newServer(b, *benchSync)
			sm := s.createMachine("bench", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}}`)
			var n atomic.Int64
			b.SetParallelism(par)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c := s.client(testKey)
				for pb.Next() {
					_, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm),
						Name: aws.String(fmt.Sprintf("x-%d", n.Add(1))), Input: aws.String(`{"detail": {"instance-id": "i-0123456789abcdef0"}}`)})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "starts/s")
		})
	}
}

// benchSync is the store's synchronous pragma in the benchmark: FULL (the
// production default, a commit survives power loss) or NORMAL.
var benchSync = flag.String("bench.sync", "FULL", "SQLite synchronous pragma for BenchmarkStartExecution: FULL or NORMAL")
