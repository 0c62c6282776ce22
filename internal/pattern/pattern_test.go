package pattern

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
)

// matchCase is one row of an operator table: a pattern, an event and
// whether they match.
type matchCase struct {
	name    string
	pattern string
	event   string
	want    bool
}

// runMatchTable checks every row through Pattern.Match and the Matcher.
func runMatchTable(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile([]byte(c.pattern))
			if err != nil {
				t.Fatalf("Compile(%s): %v", c.pattern, err)
			}
			got, err := p.Match([]byte(c.event))
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != c.want {
				t.Errorf("Pattern.Match(%s, %s) = %v, want %v", c.pattern, c.event, got, c.want)
			}
			m := NewMatcher()
			m.Add("r", p)
			m.Add("noise", MustCompile(`{"zzz":["never"]}`))
			ids, err := m.Match([]byte(c.event))
			if err != nil {
				t.Fatalf("Matcher.Match: %v", err)
			}
			if gotM := len(ids) == 1 && ids[0] == "r"; gotM != c.want {
				t.Errorf("Matcher.Match(%s, %s) = %v, want match=%v", c.pattern, c.event, ids, c.want)
			}
		})
	}
}

func TestExactValues(t *testing.T) {
	runMatchTable(t, []matchCase{
		{"string", `{"a":["x"]}`, `{"a":"x"}`, true},
		{"string other", `{"a":["x"]}`, `{"a":"y"}`, false},
		{"string vs number", `{"a":["1"]}`, `{"a":1}`, false},
		{"number vs string", `{"a":[1]}`, `{"a":"1"}`, false},
		{"number equal forms", `{"a":[300]}`, `{"a":3.0e2}`, true},
		{"number decimals", `{"a":[1.5]}`, `{"a":1.50}`, true},
		{"big number by text", `{"a":[123456789012]}`, `{"a":123456789012}`, true},
		{"big number differs", `{"a":[123456789012]}`, `{"a":123456789013}`, false},
		{"true", `{"a":[true]}`, `{"a":true}`, true},
		{"true vs string", `{"a":[true]}`, `{"a":"true"}`, false},
		{"null", `{"a":[null]}`, `{"a":null}`, true},
		{"null vs missing", `{"a":[null]}`, `{"b":1}`, false},
		{"empty string", `{"a":[""]}`, `{"a":""}`, true},
		{"any of list", `{"a":["x","y"]}`, `{"a":"y"}`, true},
		{"event array any element", `{"a":["x"]}`, `{"a":["q","x"]}`, true},
		{"event array none", `{"a":["x"]}`, `{"a":["q","r"]}`, false},
		{"nested", `{"d":{"e":{"f":["x"]}}}`, `{"d":{"e":{"f":"x"}}}`, true},
		{"object is not a leaf", `{"d":["x"]}`, `{"d":{"e":"x"}}`, false},
		{"and of fields", `{"a":["x"],"b":["y"]}`, `{"a":"x","b":"y"}`, true},
		{"and missing one", `{"a":["x"],"b":["y"]}`, `{"a":"x"}`, false},
		{"escaped string", `{"a":["t\"ab"]}`, `{"a":"t\u0022ab"}`, true},
		{"ip exact other form", `{"ip":["2001:db8::1"]}`, `{"ip":"2001:0db8:0:0:0:0:0:1"}`, true},
		{"ip exact v4", `{"ip":["10.0.0.1"]}`, `{"ip":"10.0.0.2"}`, false},
	})
}

func TestStringOperators(t *testing.T) {
	runMatchTable(t, []matchCase{
		{"prefix", `{"a":[{"prefix":"us-"}]}`, `{"a":"us-east-1"}`, true},
		{"prefix no", `{"a":[{"prefix":"us-"}]}`, `{"a":"eu-west-1"}`, false},
		{"prefix number", `{"a":[{"prefix":"1"}]}`, `{"a":12}`, false},
		{"prefix empty", `{"a":[{"prefix":""}]}`, `{"a":""}`, true},
		{"prefix ignore case", `{"a":[{"prefix":{"equals-ignore-case":"EVENTB"}}]}`, `{"a":"eventBridge"}`, true},
		{"prefix ignore case no", `{"a":[{"prefix":{"equals-ignore-case":"EVENTB"}}]}`, `{"a":"event"}`, false},
		{"suffix", `{"a":[{"suffix":".png"}]}`, `{"a":"x.png"}`, true},
		{"suffix case", `{"a":[{"suffix":".png"}]}`, `{"a":"x.PNG"}`, false},
		{"suffix ignore case", `{"a":[{"suffix":{"equals-ignore-case":".png"}}]}`, `{"a":"x.PNG"}`, true},
		{"equals ignore case", `{"a":[{"equals-ignore-case":"alice"}]}`, `{"a":"ALICE"}`, true},
		{"equals ignore case unicode", `{"a":[{"equals-ignore-case":"straße"}]}`, `{"a":"STRAßE"}`, true},
		{"equals ignore case no", `{"a":[{"equals-ignore-case":"alice"}]}`, `{"a":"alicia"}`, false},
		{"wildcard", `{"a":[{"wildcard":"arn:aws:s3:::*-logs"}]}`, `{"a":"arn:aws:s3:::prod-logs"}`, true},
		{"wildcard middle", `{"a":[{"wildcard":"a*b*c"}]}`, `{"a":"aXXbYYc"}`, true},
		{"wildcard order", `{"a":[{"wildcard":"a*b*c"}]}`, `{"a":"acb"}`, false},
		{"wildcard escaped star", `{"a":[{"wildcard":"a\\*b"}]}`, `{"a":"a*b"}`, true},
		{"wildcard escaped star literal", `{"a":[{"wildcard":"a\\*b"}]}`, `{"a":"axb"}`, false},
		{"wildcard no star", `{"a":[{"wildcard":"abc"}]}`, `{"a":"abc"}`, true},
		{"wildcard number", `{"a":[{"wildcard":"*"}]}`, `{"a":5}`, false},
		{"wildcard star only", `{"a":[{"wildcard":"*"}]}`, `{"a":""}`, true},
	})
}

func TestAnythingBut(t *testing.T) {
	runMatchTable(t, []matchCase{
		{"string", `{"a":[{"anything-but":"x"}]}`, `{"a":"y"}`, true},
		{"string same", `{"a":[{"anything-but":"x"}]}`, `{"a":"x"}`, false},
		{"string vs number", `{"a":[{"anything-but":"1"}]}`, `{"a":1}`, true},
		{"missing", `{"a":[{"anything-but":"x"}]}`, `{"b":"y"}`, false},
		{"null", `{"a":[{"anything-but":"x"}]}`, `{"a":null}`, true},
		{"list", `{"a":[{"anything-but":["x","y"]}]}`, `{"a":"y"}`, false},
		{"numbers", `{"a":[{"anything-but":[1,2]}]}`, `{"a":2.0}`, false},
		{"numbers other", `{"a":[{"anything-but":[1,2]}]}`, `{"a":3}`, true},
		{"array any element", `{"a":[{"anything-but":"x"}]}`, `{"a":["x","y"]}`, true},
		{"array all excluded", `{"a":[{"anything-but":"x"}]}`, `{"a":["x","x"]}`, false},
		{"prefix", `{"a":[{"anything-but":{"prefix":"us-"}}]}`, `{"a":"eu-west-1"}`, true},
		{"prefix excluded", `{"a":[{"anything-but":{"prefix":"us-"}}]}`, `{"a":"us-east-1"}`, false},
		{"prefix list", `{"a":[{"anything-but":{"prefix":["us-","eu-"]}}]}`, `{"a":"eu-west-1"}`, false},
		{"suffix", `{"a":[{"anything-but":{"suffix":".png"}}]}`, `{"a":"x.jpg"}`, true},
		{"suffix excluded", `{"a":[{"anything-but":{"suffix":".png"}}]}`, `{"a":"x.png"}`, false},
		{"ignore case", `{"a":[{"anything-but":{"equals-ignore-case":["Stopped"]}}]}`, `{"a":"STOPPED"}`, false},
		{"ignore case other", `{"a":[{"anything-but":{"equals-ignore-case":["Stopped"]}}]}`, `{"a":"running"}`, true},
		{"wildcard", `{"a":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"a":"/usr/bin/x"}`, true},
		{"wildcard excluded", `{"a":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"a":"/usr/lib/x"}`, false},
		{"with exists false", `{"a":[{"anything-but":"x"},{"exists":false}]}`, `{"b":1}`, true},
	})
}

func TestNumeric(t *testing.T) {
	runMatchTable(t, []matchCase{
		{"gt", `{"n":[{"numeric":[">",0]}]}`, `{"n":0.000001}`, true},
		{"gt boundary", `{"n":[{"numeric":[">",0]}]}`, `{"n":0}`, false},
		{"ge boundary", `{"n":[{"numeric":[">=",0]}]}`, `{"n":0}`, true},
		{"lt", `{"n":[{"numeric":["<",10]}]}`, `{"n":-5e9}`, true},
		{"le boundary", `{"n":[{"numeric":["<=",10]}]}`, `{"n":10.0}`, true},
		{"eq", `{"n":[{"numeric":["=",301.8]}]}`, `{"n":3.018e2}`, true},
		{"range in", `{"n":[{"numeric":[">",0,"<=",5]}]}`, `{"n":5}`, true},
		{"range out", `{"n":[{"numeric":[">",0,"<=",5]}]}`, `{"n":5.000001}`, false},
		{"string not numeric", `{"n":[{"numeric":[">",0]}]}`, `{"n":"5"}`, false},
		{"out of range event", `{"n":[{"numeric":[">",0]}]}`, `{"n":6e9}`, false},
		{"too precise event", `{"n":[{"numeric":[">",0]}]}`, `{"n":1.0000001}`, false},
		{"array element", `{"n":[{"numeric":[">",100]}]}`, `{"n":[1,2,300]}`, true},
		{"negative", `{"n":[{"numeric":[">=",-10,"<",-5]}]}`, `{"n":-7.5}`, true},
	})
}

func TestCIDRAndExists(t *testing.T) {
	runMatchTable(t, []matchCase{
		{"v4 in", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, `{"ip":"10.0.0.7"}`, true},
		{"v4 out", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, `{"ip":"10.0.1.7"}`, false},
		{"v4 everything", `{"ip":[{"cidr":"0.0.0.0/0"}]}`, `{"ip":"203.0.113.9"}`, true},
		{"v4 not v6", `{"ip":[{"cidr":"0.0.0.0/0"}]}`, `{"ip":"::1"}`, false},
		{"v6 in", `{"ip":[{"cidr":"2001:db8::/32"}]}`, `{"ip":"2001:db8:ffff::1"}`, true},
		{"v6 out", `{"ip":[{"cidr":"2001:db8::/32"}]}`, `{"ip":"2001:db9::1"}`, false},
		{"not an ip", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"10.0.0"}`, false},
		{"exists", `{"a":[{"exists":true}]}`, `{"a":"x"}`, true},
		{"exists null", `{"a":[{"exists":true}]}`, `{"a":null}`, true},
		{"exists object", `{"a":[{"exists":true}]}`, `{"a":{"b":1}}`, false},
		{"exists empty array", `{"a":[{"exists":true}]}`, `{"a":[]}`, false},
		{"absent", `{"a":[{"exists":false}]}`, `{"b":"x"}`, true},
		{"absent present", `{"a":[{"exists":false}]}`, `{"a":"x"}`, false},
		{"absent object", `{"a":[{"exists":false}]}`, `{"a":{"b":1}}`, true},
		{"absent with other field", `{"a":[{"exists":false}],"b":["x"]}`, `{"b":"x"}`, true},
	})
}

func TestOrAndStructure(t *testing.T) {
	runMatchTable(t, []matchCase{
		{"or first", `{"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"a":"x"}`, true},
		{"or second", `{"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"b":"y"}`, true},
		{"or none", `{"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"a":"y"}`, false},
		{"or with common", `{"s":["k"],"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"b":"y"}`, false},
		{"or with common ok", `{"s":["k"],"$or":[{"a":["x"]},{"b":["y"]}]}`, `{"s":"k","b":"y"}`, true},
		{"nested or", `{"d":{"$or":[{"a":["x"]},{"$or":[{"b":["y"]},{"c":["z"]}]}]}}`, `{"d":{"c":"z"}}`, true},
		{"dotted pattern key", `{"d":{"a.b":["x"]}}`, `{"d":{"a":{"b":"x"}}}`, true},
		{"dotted event key", `{"d":{"a":{"b":["x"]}}}`, `{"d":{"a.b":"x"}}`, true},
		{"same array element", `{"r":{"k":["a"],"v":["1"]}}`, `{"r":[{"k":"a","v":"1"},{"k":"b","v":"2"}]}`, true},
		{"different array elements", `{"r":{"k":["a"],"v":["2"]}}`, `{"r":[{"k":"a","v":"1"},{"k":"b","v":"2"}]}`, false},
		{"nested arrays consistent", `{"r":{"i":{"k":["a"]},"n":["x"]}}`, `{"r":[{"n":"x","i":[{"k":"b"},{"k":"a"}]}]}`, true},
		{"absent in the same element", `{"r":{"k":["a"],"v":[{"exists":false}]}}`, `{"r":[{"k":"a"},{"k":"b","v":"1"}]}`, true},
		{"present in the same element", `{"r":{"k":["b"],"v":[{"exists":false}]}}`, `{"r":[{"k":"a"},{"k":"b","v":"1"}]}`, false},
		{"absent or value", `{"r":{"k":["b"],"v":[{"exists":false},"2"]}}`, `{"r":[{"k":"a","v":"2"},{"k":"b","v":"1"}]}`, false},
		{"absent or value ok", `{"r":{"k":["a"],"v":[{"exists":false},"2"]}}`, `{"r":[{"k":"a","v":"2"},{"k":"b","v":"1"}]}`, true},
		{"absent outside arrays", `{"s":["x"],"r":{"v":[{"exists":false}]}}`, `{"s":"x","r":[{"k":"a"}]}`, true},
		{"duplicate key last wins", `{"a":["x"],"a":["y"]}`, `{"a":"y"}`, true},
	})
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ pattern, reason string }{
		{`[]`, "Filter is not an object"},
		{`{}`, "Empty objects are not allowed"},
		{`{"a":{}}`, "Empty objects are not allowed"},
		{`{"a":"x"}`, `"a" must be an object or an array`},
		{`{"a":[]}`, "Empty arrays are not allowed"},
		{`{"a":[["x"]]}`, "Match value must be String, number, true, false, or null"},
		{`{"a":[{}]}`, "Match expression name not found"},
		{`{"a":[{"prefix":"x","suffix":"y"}]}`, "Only one key allowed in match expression"},
		{`{"a":[{"regex":"x"}]}`, "Unrecognized match type regex"},
		{`{"a":[{"numeric":[]}]}`, "Invalid member in numeric match: ]"},
		{`{"a":[{"numeric":[5]}]}`, "Invalid member in numeric match: 5"},
		{`{"a":[{"numeric":["!",5]}]}`, "Unrecognized numeric range operator: !"},
		{`{"a":[{"numeric":["=","5"]}]}`, "Value of equals must be numeric"},
		{`{"a":[{"numeric":["<",5,">",1]}]}`, "Too many elements in numeric expression"},
		{`{"a":[{"numeric":[">",5,"<",1]}]}`, "Bottom must be less than top"},
		{`{"a":[{"numeric":[">",1,5]}]}`, "Bad value in numeric range: 5"},
		{`{"a":[{"numeric":[">",1,"<",5,6]}]}`, "Too many terms in numeric range expression"},
		{`{"a":[{"numeric":[">",6e9]}]}`, "Value must be between -5.0E9 and 5.0E9, inclusive"},
		{`{"a":[{"numeric":[">",1.0000001]}]}`, "Only values upto 6 decimals are supported"},
		{`{"a":[{"exists":"yes"}]}`, "exists match pattern must be either true or false."},
		{`{"a":[{"cidr":"10.0.0.0/33"}]}`, "IPv4 mask bits must be < 32"},
		{`{"a":[{"cidr":"10.0.0.0/-1"}]}`, "Malformed CIDR, mask bits must not be negative"},
		{`{"a":[{"cidr":"10.0.0.300/8"}]}`, "Invalid IP address: 10.0.0.300"},
		{`{"a":[{"wildcard":"a\\b"}]}`, "Invalid escape character at pos 2"},
		{`{"a":[{"anything-but":{"contains":"x"}}]}`, "Unsupported anything-but pattern: contains"},
		{`{"a":[{"anything-but":[]}]}`, "Inside anything but list, either all values are number or string, mixed type is not supported"},
		{`{"a":[{"anything-but":["x",1]}]}`, "Inside anything but list, either all values are number or string, mixed type is not supported"},
		{`{"a":[{"prefix":{"x":"y"}}]}`, "Unsupported prefix pattern: x"},
		{`{"$or":[{"a":["x"]}]}`, "There must have at least 2 Objects in $or relationship."},
		{`{"$or":{"a":["x"]}}`, "It must be an Array followed with $or."},
		{`{"$or":[{"a":["x"]},"b"]}`, "Only JSON object is allowed in array of $or relationship."},
		{`{"$or":[{"prefix":["x"]},{"b":["y"]}]}`, "prefix is Ruler reserved fieldName which cannot be used inside $or."},
		// rejected by EventBridge (reported in a public Terraform module)
		{`{"k":[{"wildcard":"*.bif"},{"wildcard":"*.tiff"},{"wildcard":"*.tif"},{"wildcard":"*.svs"}]}`, msgTooComplex},
	}
	for _, c := range cases {
		_, err := Compile([]byte(c.pattern))
		var ipe *InvalidPatternError
		if !errors.As(err, &ipe) {
			t.Errorf("Compile(%s) = %v, want InvalidPatternError", c.pattern, err)
			continue
		}
		if !errors.Is(err, ErrInvalidPattern) {
			t.Errorf("Compile(%s): errors.Is(ErrInvalidPattern) false", c.pattern)
		}
		if want := invalidPrefix + c.reason; ipe.Error() != want || ipe.Reason != c.reason {
			t.Errorf("Compile(%s)\n got %q\nwant %q", c.pattern, ipe.Error(), want)
		}
	}
	big := make([]byte, 0, MaxPatternLength+100)
	big = append(big, `{"a":["`...)
	for len(big) < MaxPatternLength {
		big = append(big, 'x')
	}
	big = append(big, `"]}`...)
	if _, err := Compile(big); !errors.Is(err, ErrPatternTooLong) {
		t.Errorf("Compile(long) = %v, want ErrPatternTooLong", err)
	}
}

func TestMalformedEvent(t *testing.T) {
	p := MustCompile(`{"a":["x"]}`)
	m := NewMatcher()
	m.Add("r", p)
	for _, ev := range []string{``, `{`, `{"a":}`, `{"a":"x"`, `[1]`, `"x"`, `{"a":"x"} extra`, `{"b":[1,]}`, `{"b":tru}`, `{"b":"\x"}`} {
		if _, err := p.Match([]byte(ev)); !errors.Is(err, ErrMalformedEvent) {
			t.Errorf("Pattern.Match(%q) error = %v, want ErrMalformedEvent", ev, err)
		}
		if _, err := m.Match([]byte(ev)); !errors.Is(err, ErrMalformedEvent) {
			t.Errorf("Matcher.Match(%q) error = %v, want ErrMalformedEvent", ev, err)
		}
	}
}

func TestMatcherAddRemove(t *testing.T) {
	m := NewMatcher()
	m.Add("b", MustCompile(`{"source":["aws.s3"]}`))
	m.Add("a", MustCompile(`{"source":[{"prefix":"aws."}]}`))
	m.Add("c", MustCompile(`{"source":["aws.ec2"]}`))
	m.Add("d", MustCompile(`{"detail":{"n":[{"numeric":[">",5]}]}}`))
	ev := []byte(`{"source":"aws.s3","detail":{"n":7}}`)
	got, err := m.Match(ev)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "d"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Match = %v, want %v", got, want)
	}
	m.Remove("b")
	m.Add("a", MustCompile(`{"source":["nope"]}`)) // replace
	got, _ = m.Match(ev)
	if want := []string{"d"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after Remove/replace Match = %v, want %v", got, want)
	}
	if m.Len() != 3 {
		t.Errorf("Len = %d, want 3", m.Len())
	}
	// churn enough to trigger compaction
	for i := 0; i < 500; i++ {
		id := fmt.Sprintf("tmp%d", i)
		m.Add(id, MustCompile(`{"source":["aws.s3"]}`))
		m.Remove(id)
	}
	got, _ = m.Match(ev)
	if want := []string{"d"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after churn Match = %v, want %v", got, want)
	}
}

func TestMatcherConcurrent(t *testing.T) {
	m := NewMatcher()
	ev := []byte(`{"source":"aws.s3","detail":{"n":7,"ip":"10.1.2.3"}}`)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				m.Add(id, MustCompile(`{"detail":{"n":[{"numeric":[">",5]}],"ip":[{"cidr":"10.0.0.0/8"}]}}`))
				if i%3 == 0 {
					m.Remove(id)
				}
			}
		}(w)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := m.Match(ev); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, err := m.Match(ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != m.Len() {
		t.Errorf("matched %d rules, hold %d", len(got), m.Len())
	}
}
