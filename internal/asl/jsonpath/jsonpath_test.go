package jsonpath

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func encode(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return string(b)
}

const store = `{
  "store": {
    "book": [
      {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
      {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
      {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
      {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
    ],
    "bicycle": {"color": "red", "price": 19.95}
  },
  "expensive": 10,
  "detail-type": "AWS API Call via CloudTrail",
  "a b": 1,
  "it's": 2,
  "users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}, {"year": 1999}],
  "n": null,
  "s": "str",
  "tags": ["a", "b"],
  "num": "10"
}`

func TestGet(t *testing.T) {
	doc := decode(t, store)
	tests := []struct {
		path string
		want string // JSON of the result; "" means ErrNotFound
	}{
		{"$", ""}, // checked separately below (whole doc)
		{"$.expensive", `10`},
		{"$['expensive']", `10`},
		{`$["expensive"]`, `10`},
		{"$.store.bicycle.color", `"red"`},
		{"$.store.book[0].author", `"Nigel Rees"`},
		{"$.store.book[-1].author", `"J. R. R. Tolkien"`},
		{"$.store.book[4]", ""},
		{"$.store.book[-5]", ""},
		{"$.detail-type", `"AWS API Call via CloudTrail"`},
		{"$['a b']", `1`},
		{`$['it\'s']`, `2`},
		{"$.n", `null`},
		{"$.missing", ""},
		{"$.s.x", ""},
		{"$.store.book[*].author", `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{"$..author", `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{"$.store.*.color", `["red"]`},
		{"$.store.book[0,1].price", `[8.95,12.99]`},
		{"$.store.book[:2].price", `[8.95,12.99]`},
		{"$.store.book[2:].price", `[8.99,22.99]`},
		{"$.store.book[-1:].price", `[22.99]`},
		{"$.store.book[1:3].price", `[12.99,8.99]`},
		{"$.store.book[?(@.isbn)].title", `["Moby Dick","The Lord of the Rings"]`},
		{"$.store.book[?(!@.isbn)].title", `["Sayings of the Century","Sword of Honour"]`},
		{"$.store.book[?(@.price < 10)].price", `[8.95,8.99]`},
		{"$.store.book[?(@.price <= 8.99)].price", `[8.95,8.99]`},
		{"$.store.book[?(@.price > $.expensive)].price", `[12.99,22.99]`},
		{"$.store.book[?(@.price >= 22.99)].price", `[22.99]`},
		{"$.store.book[?(@.category == 'reference')].title", `["Sayings of the Century"]`},
		{`$.store.book[?(@.category != "fiction")].title`, `["Sayings of the Century"]`},
		{"$.store.book[?(@.category == 'fiction' && @.price < 10)].title", `["Moby Dick"]`},
		{"$.store.book[?(@.price < 9 || @.price > 20)].price", `[8.95,8.99,22.99]`},
		{"$.store.book[?(@.author =~ /.*REES/i)].author", `["Nigel Rees"]`},
		{"$.store.book[?(@.author =~ /Rees/)].author", `[]`},
		{"$.store.book[?(@.category in ['reference','x'])].price", `[8.95]`},
		{"$.store.book[?(@.category nin ['fiction'])].price", `[8.95]`},
		{"$.users[?(@.status == 0)]", `[{"status":0,"year":1997}]`},
		{"$.users[?(@.status != 0)].year", `[1998,1999]`},
		{"$.users[?(@.year == '1997')].year", `[1997]`},
		{"$.[?(@.expensive > 5)].expensive", `[10]`},
		{"$.users.length()", `3`},
		{"$.store.book[0]['author','title']", `{"author":"Nigel Rees","title":"Sayings of the Century"}`},
		{"$..book[?(@.price > 20)].title", `["The Lord of the Rings"]`},
		{"$..[?(@.color)].color", `["red"]`},
		{"$.tags[*]", `["a","b"]`},
		{"$.tags[?(@ == 'b')]", `["b"]`},
		{"$.missing[*]", ""},
		{"$.s[*]", `[]`},
		{"$.users[?(@.year in [1997, 1999])].year", `[1997,1999]`},
		{"$.store.book[?(@.price > 10 && (@.category == 'fiction' || @.x))].price", `[12.99,22.99]`},
		{"$.tags[?(@ size 1)]", `["a","b"]`},
		{"$.store[?(@.bicycle.color contains 'e')].bicycle.price", `[19.95]`},
		{"$.num", `"10"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := Compile(tt.path)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := p.Get(doc)
			if tt.path == "$" {
				if err != nil || !reflect.DeepEqual(got, doc) {
					t.Fatalf("Get($) = %v, %v", got, err)
				}
				return
			}
			if tt.want == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get = %s, %v; want ErrNotFound", encode(t, got), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if g := encode(t, got); g != tt.want {
				t.Fatalf("Get = %s, want %s", g, tt.want)
			}
		})
	}
}

func TestIsReference(t *testing.T) {
	tests := map[string]bool{
		"$":                   true,
		"$.a.b":               true,
		"$['a'][0].b":         true,
		"$[-1]":               true,
		"$.a[*]":              false,
		"$..a":                false,
		"$.a[0,1]":            false,
		"$.a[0:1]":            false,
		"$.a[?(@.x)]":         false,
		"$.a.length()":        false,
		"$['a','b']":          false,
		"$.detail-type":       true,
		"$.a:b":               true,
		"$.execution_id":      true,
		"$.Payload.ResponseC": true,
	}
	for s, want := range tests {
		p, err := Compile(s)
		if err != nil {
			t.Fatalf("Compile(%q): %v", s, err)
		}
		if got := p.IsReference(); got != want {
			t.Errorf("IsReference(%q) = %v, want %v", s, got, want)
		}
		if p.String() != s {
			t.Errorf("String() = %q, want %q", p.String(), s)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	bad := []string{
		"", "a.b", "$.", "$..", "$.a.", "$a", "$[", "$['a'", "$[a]", "$.a b", "$[?(@.a == )]",
		"$[?(@.a ==)]", "$[?(@.a", "$[1:2", "$[::]", "$.a()", "$.foo()", "$.length().x",
		"$[?(@.a =~ /[/)]", "$[?(1)]", "$..", "$[?(@.a == 'x)]", "$[99999999999]", "@.a",
	}
	for _, s := range bad {
		p, err := Compile(s)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Compile(%q) = %v, %v; want *SyntaxError", s, p, err)
			continue
		}
		if se.Offset < 0 || se.Offset > len(s) {
			t.Errorf("Compile(%q): offset %d out of range", s, se.Offset)
		}
	}
}

func TestSet(t *testing.T) {
	tests := []struct {
		doc, path, value, want string
		err                    error
	}{
		{`{"a":1}`, "$", `{"x":1}`, `{"x":1}`, nil},
		{`{"a":1}`, "$.b", `2`, `{"a":1,"b":2}`, nil},
		{`{"a":1}`, "$.a", `2`, `{"a":2}`, nil},
		{`{"a":1}`, "$.b.c.d", `true`, `{"a":1,"b":{"c":{"d":true}}}`, nil},
		{`{"a":{"x":1}}`, "$.a.y", `2`, `{"a":{"x":1,"y":2}}`, nil},
		{`{"a":[1,{"x":1}]}`, "$.a[1].x", `2`, `{"a":[1,{"x":2}]}`, nil},
		{`{"a":[1,2]}`, "$.a[-1]", `3`, `{"a":[1,3]}`, nil},
		{`{"a":[1,2]}`, "$.a[2]", `3`, ``, ErrNotContainer},
		{`{"a":"s"}`, "$.a.b", `1`, ``, ErrNotContainer},
		{`{"a":null}`, "$.a.b", `1`, ``, ErrNotContainer},
		{`"str"`, "$.a", `1`, ``, ErrNotContainer},
		{`{"a":[1]}`, "$.a[*]", `1`, ``, ErrNotReference},
		{`{"a b":1}`, "$['a b']", `2`, `{"a b":2}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path+"="+tt.value, func(t *testing.T) {
			doc := decode(t, tt.doc)
			before := encode(t, doc)
			value := decode(t, tt.value)
			p, err := Compile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Set(doc, value)
			if tt.err != nil {
				var se *SetError
				if !errors.Is(err, tt.err) || !errors.As(err, &se) {
					t.Fatalf("Set = %v, %v; want %v", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := encode(t, got); g != tt.want {
				t.Fatalf("Set = %s, want %s", g, tt.want)
			}
			if after := encode(t, doc); after != before {
				t.Fatalf("Set mutated doc: %s -> %s", before, after)
			}
		})
	}
}

func TestCompileVariable(t *testing.T) {
	tests := []struct {
		in, name, rest string
		ok             bool
	}{
		{"$x", "x", "$", true},
		{"$myVar.a.b", "myVar", "$.a.b", true},
		{"$v_1[0].a", "v_1", "$[0].a", true},
		{"$$.x", "", "", false},
		{"$", "", "", false},
		{"$.a", "", "", false},
		{"$1a", "", "", false},
		{"$a-b", "", "", false},
		{"$a.", "", "", false},
	}
	for _, tt := range tests {
		name, rest, err := CompileVariable(tt.in)
		if !tt.ok {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("CompileVariable(%q) = %q, %v, %v; want *SyntaxError", tt.in, name, rest, err)
			}
			continue
		}
		if err != nil || name != tt.name || rest.String() != tt.rest {
			t.Errorf("CompileVariable(%q) = %q, %v, %v; want %q, %q", tt.in, name, rest, err, tt.name, tt.rest)
		}
	}
	_, rest, err := CompileVariable("$v.a")
	if err != nil {
		t.Fatal(err)
	}
	got, err := rest.Get(decode(t, `{"a":5}`))
	if err != nil || encode(t, got) != "5" {
		t.Fatalf("Get = %v, %v", got, err)
	}
}

func TestGetAcceptsGoNumbers(t *testing.T) {
	doc := map[string]any{"a": []any{map[string]any{"x": 1.5}, map[string]any{"x": int64(3)}, map[string]any{"x": 2}}}
	p, err := Compile("$.a[?(@.x > 1.9)].x")
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Get(doc)
	if err != nil {
		t.Fatal(err)
	}
	if g := encode(t, got); g != "[3,2]" {
		t.Fatalf("got %s", g)
	}
}

// TestConcurrentGet uses one compiled Path from many goroutines (run with
// -race).
func TestConcurrentGet(t *testing.T) {
	doc := decode(t, store)
	paths := []*Path{}
	for _, s := range []string{"$.store.book[0].author", "$..price", "$.store.book[?(@.price > $.expensive)].title", "$.users.length()"} {
		p, err := Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				for _, p := range paths {
					if _, err := p.Get(doc); err != nil {
						done <- err
						return
					}
				}
				if _, err := paths[0].Set(doc, i); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
