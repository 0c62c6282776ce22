package schedule

import (
	"errors"
	"testing"
	"time"
)

// FuzzParseCron: no expression crashes the parser or Next, and an
// accepted one always has a next run strictly later.
func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"0 6 * * *", "*/15 * * * *", "0 0 L * *", "0 0 ? * 5#2", "0 0 1W * *", "@daily", "0 0 31 2 *", "a b c d e", "1-5/2 */3 1,15 JAN-MAR MON-FRI", "0 0 * * 7L", ""} {
		f.Add(s, int64(0))
	}
	f.Fuzz(func(t *testing.T, expr string, at int64) {
		c, err := ParseCron("fuzz", expr)
		if err != nil {
			if !errors.Is(err, ErrBadCron) {
				t.Fatalf("%q: error %v is not ErrBadCron", expr, err)
			}
			return
		}
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(at%(1<<20)) * time.Minute)
		n, err := c.Next(from)
		if err == nil && !n.After(from) {
			t.Fatalf("%q: next %v not after %v", expr, n, from)
		}
	})
}
