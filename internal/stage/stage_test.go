package stage

import "testing"

func TestLowerAndEffective(t *testing.T) {
	tests := []struct {
		configured Stage
		input      any
		want       Stage
	}{
		{Enforce, nil, Enforce},
		{Enforce, map[string]any{"steward": map[string]any{"stage": "observe"}}, Observe},
		{Observe, map[string]any{"steward": map[string]any{"stage": "enforce"}}, Observe},
		{Notify, map[string]any{"steward": map[string]any{"stage": "bogus"}}, Observe},
		{Stage("bogus"), nil, Observe},
	}
	for _, tt := range tests {
		if got := Effective(Fixed(tt.configured), "p", "c", tt.input); got != tt.want {
			t.Errorf("Effective(%s, %v) = %s, want %s", tt.configured, tt.input, got, tt.want)
		}
	}
}

func TestPlaybookOf(t *testing.T) {
	if got := PlaybookOf("arn:aws:states:us-east-1:000000000000:execution:ebs-unused:run-1"); got != "ebs-unused" {
		t.Errorf("got %q", got)
	}
	if got := PlaybookOf("nope"); got != "" {
		t.Errorf("got %q", got)
	}
}

func TestParse(t *testing.T) {
	if s, err := Parse(" Enforce "); err != nil || s != Enforce {
		t.Errorf("Parse = %v, %v", s, err)
	}
	if _, err := Parse("fix"); err == nil {
		t.Error("Parse(fix) succeeded")
	}
}
