package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MaxLogFileBytes bounds one (decompressed) CloudTrail log file.
const MaxLogFileBytes = 512 << 20

// ReadCloudTrail reads CloudTrail log files for backfill: a file or a
// folder of them (walked in name order), each gzip-compressed or not, and
// each either the S3 log format ({"Records": [...]}), a JSON array, or
// NDJSON. Raw CloudTrail records are wrapped as EventBridge wraps them
// (WrapCloudTrail); EventBridge events pass through. fn receives each event
// with the file it came from.
func ReadCloudTrail(path string, fn func(file string, event map[string]any) error) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return readLogFile(path, fn)
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".json.gz") || strings.HasSuffix(p, ".gz") || strings.HasSuffix(p, ".ndjson") || strings.HasSuffix(p, ".jsonl")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		if err := readLogFile(f, fn); err != nil {
			return err
		}
	}
	return nil
}

func readLogFile(path string, fn func(string, map[string]any) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if br := r.(*bufio.Reader); isGzip(br) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxLogFileBytes+1))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxLogFileBytes {
		return fmt.Errorf("%s: over %d bytes decompressed", path, MaxLogFileBytes)
	}
	records, err := splitRecords(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for i, rec := range records {
		ev := rec
		if _, isEnvelope := rec["detail-type"]; !isEnvelope {
			if ev, err = WrapCloudTrail(rec); err != nil {
				return fmt.Errorf("%s: record %d: %w", path, i+1, err)
			}
		}
		if err := fn(path, ev); err != nil {
			return err
		}
	}
	return nil
}

func isGzip(r *bufio.Reader) bool {
	b, err := r.Peek(2)
	return err == nil && b[0] == 0x1f && b[1] == 0x8b
}

// splitRecords finds the records in a log file's content.
func splitRecords(data []byte) ([]map[string]any, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, nil
	}
	decode := func(b []byte) (map[string]any, error) {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		return m, nil
	}
	if trimmed[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		out := make([]map[string]any, 0, len(items))
		for _, it := range items {
			m, err := decode(it)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	}
	if json.Valid(trimmed) {
		m, err := decode(trimmed)
		if err != nil {
			return nil, err
		}
		if recs, ok := m["Records"].([]any); ok {
			out := make([]map[string]any, 0, len(recs))
			for i, r := range recs {
				rm, ok := r.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%w: Records[%d] is not an object", ErrMalformed, i)
				}
				out = append(out, rm)
			}
			return out, nil
		}
		return []map[string]any{m}, nil
	}
	// NDJSON: one object per line.
	var out []map[string]any
	for n, line := range bytes.Split(trimmed, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		m, err := decode(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		out = append(out, m)
	}
	return out, nil
}
