package approvalsapi

import (
	"strings"
	"testing"
	"time"

	"github.com/stewardhq/steward/internal/approve"
)

var now = time.Date(2030, 3, 4, 9, 0, 0, 0, time.UTC)

func TestDecodeDecide(t *testing.T) {
	cases := []struct {
		body    string
		choice  approve.Choice
		until   string
		channel string
		err     string
	}{
		{`{"choice":"approve","by":"alice"}`, approve.ChoiceApprove, "", "api", ""},
		{`{"choice":"deny","by":"alice","channel":"cli"}`, approve.ChoiceDeny, "", "cli", ""},
		{`{"choice":"exception-month","by":"a"}`, approve.ChoiceException1M, "", "api", ""},
		{`{"choice":"exception-year","by":"a"}`, approve.ChoiceException1Y, "", "api", ""},
		{`{"choice":"exception","by":"a","until":"2030-03-20"}`, approve.ChoiceException1M, "2030-03-21T00:00:00Z", "api", ""},
		{`{"choice":"exception","by":"a","until":"2030-09-01T12:00:00Z"}`, approve.ChoiceException1Y, "2030-09-01T12:00:00Z", "api", ""},
		{`{"choice":"approve","by":"  "}`, "", "", "", "by:"},
		{`{"choice":"maybe","by":"a"}`, "", "", "", "choice"},
		{`{"choice":"approve","by":"a","until":"2030-03-20"}`, "", "", "", "only an exception"},
		{`{"choice":"exception","by":"a","until":"soon"}`, "", "", "", "until"},
		{`{"choice":"approve","by":"a","channel":"slack"}`, "", "", "", "channel"},
		{`{"choice":"approve","by":"a","extra":1}`, "", "", "", "unknown field"},
		{`[]`, "", "", "", "body"},
	}
	for _, c := range cases {
		in, choice, until, err := DecodeDecide(strings.NewReader(c.body), now)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.body, err, c.err)
			}
			continue
		}
		if err != nil || choice != c.choice || in.Channel != c.channel {
			t.Errorf("%s: %v %q %q", c.body, err, choice, in.Channel)
		}
		if c.until != "" && until.Format(time.RFC3339) != c.until {
			t.Errorf("%s: until %s", c.body, until.Format(time.RFC3339))
		}
	}
}

func FuzzDecodeDecide(f *testing.F) {
	for _, s := range []string{`{"choice":"approve","by":"alice"}`, `{"choice":"exception","by":"a","until":"2030-03-20"}`, `{"until":"2030-09-01T12:00:00+02:00"}`, `nul`, `{"by":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		in, choice, until, err := DecodeDecide(strings.NewReader(body), now)
		if err != nil {
			return
		}
		if !choice.Valid() || strings.TrimSpace(in.By) == "" {
			t.Fatalf("accepted %q: choice %q by %q", body, choice, in.By)
		}
		if !until.IsZero() && choice != approve.ChoiceException1M && choice != approve.ChoiceException1Y {
			t.Fatalf("an end on a %s", choice)
		}
	})
}
