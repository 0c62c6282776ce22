package approval

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzTaskInput: the steward:approval input comes from playbooks (and the
// events they were started with); any of it is refused cleanly or read
// into a question with choices and a default.
func FuzzTaskInput(f *testing.F) {
	for _, s := range []string{
		`{"Resource":"arn:aws:ec2:eu-west-1:111111111111:volume/vol-1","Owner":"alice","Choices":["approve","exception-month","exception-year","deny"],"Default":"approve","DeadlineSeconds":172800}`,
		`{"Choices":[],"Default":"deny"}`,
		`{"DeadlineSeconds":-1}`,
		`{"DeadlineSeconds":1e400}`,
		`{"Choices":["exception-year"],"Default":"exception-year"}`,
		`[1,2]`,
		`{"Subject":5}`,
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, allowYear bool) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		in, err := parseInput(v, allowYear, 48*time.Hour)
		if err != nil {
			return
		}
		if len(in.Choices) == 0 || !in.Default.Valid() || in.Deadline <= 0 {
			t.Fatalf("accepted %s as %+v", data, in)
		}
		for _, c := range in.Choices {
			if !c.Valid() || (!allowYear && c == "exception-1y") {
				t.Fatalf("choice %q from %s", c, data)
			}
		}
	})
}
