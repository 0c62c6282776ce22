package ingest

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/store/storesqlite"
)

// benchServer is the ingest handler over a real SQLite store (synchronous
// FULL, as steward serve runs it), behind a loopback HTTP server.
var benchSync = flag.String("ingest.sync", "FULL", "SQLite synchronous mode for the ingest benchmarks (FULL, as serve runs, or NORMAL)")

func benchServer(b *testing.B) (*httptest.Server, *storesqlite.DB) {
	b.Helper()
	db, err := storesqlite.Open(filepath.Join(b.TempDir(), "steward.db"), storesqlite.Options{Synchronous: *benchSync})
	if err != nil {
		b.Fatal(err)
	}
	h := &Handler{Appender: StoreAppender{Events: db}, Token: "t"}
	srv := httptest.NewServer(http.HandlerFunc(h.ServeEvents))
	b.Cleanup(func() { srv.Close(); db.Close() })
	return srv, db
}

var seq atomic.Int64

// cloudTrailSized is an EventBridge CloudTrail event of a realistic size
// (about 1.5 KB) with a unique id.
func cloudTrailSized() []byte {
	n := seq.Add(1)
	return []byte(fmt.Sprintf(`{"version":"0","id":"bench-%d","detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","account":"111122223333","time":"2026-11-02T10:00:00Z","region":"eu-west-1","resources":[],"detail":{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice@example.com","arn":"arn:aws:sts::111122223333:assumed-role/developer/alice@example.com","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/developer","accountId":"111122223333","userName":"developer"},"attributes":{"creationDate":"2026-11-02T09:00:00Z","mfaAuthenticated":"true"}}},"eventTime":"2026-11-02T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.10","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64","requestParameters":{"instancesSet":{"items":[{"imageId":"ami-0abcdef1234567890","minCount":1,"maxCount":1}]},"instanceType":"t3.micro","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":false,"clientToken":"%d"},"responseElements":{"requestId":"r-%d","reservationId":"r-0123456789abcdef0","ownerId":"111122223333","instancesSet":{"items":[{"instanceId":"i-0%015d","imageId":"ami-0abcdef1234567890","instanceState":{"code":0,"name":"pending"}}]}},"requestID":"req-%d","eventID":"ev-%d","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}}`, n, n, n, n, n, n))
}

func postBench(client *http.Client, url string, body []byte) error {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer t")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Read the answer to the end, so the connection is reused.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// BenchmarkIngestBatches measures durable ingest through HTTP: batches of
// 10 events (PutEvents' size), committed before the response, from 32
// concurrent senders. One op is one batch.
func BenchmarkIngestBatches(b *testing.B) {
	srv, _ := benchServer(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const batch = 10
	bodies := make(chan []byte, 64)
	go func() {
		for {
			var buf bytes.Buffer
			buf.WriteByte('[')
			for i := 0; i < batch; i++ {
				if i > 0 {
					buf.WriteByte(',')
				}
				buf.Write(cloudTrailSized())
			}
			buf.WriteByte(']')
			select {
			case bodies <- buf.Bytes():
			case <-b.Context().Done():
				return
			}
		}
	}()
	b.SetParallelism(16) // 16 x GOMAXPROCS senders
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := postBench(client, srv.URL, <-bodies); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIngestLatency sends single events at a steady 1,000 per second
// and reports the latency percentiles (each event committed before its
// response). One op is one event.
func BenchmarkIngestLatency(b *testing.B) {
	srv, _ := benchServer(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	const rate = 1000
	interval := time.Second / rate
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		body := cloudTrailSized()
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			if err := postBench(client, srv.URL, body); err != nil && ctx.Err() == nil {
				b.Error(err)
			}
			mu.Lock()
			lat = append(lat, time.Since(t))
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/time.Since(start).Seconds(), "events/s")
}
