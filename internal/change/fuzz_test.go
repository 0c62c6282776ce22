package change

import (
	"context"
	"strings"
	"testing"
)

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"ch-3f2a9c0d11aa22bb", "arn:aws:states:us-east-1:111111111111:execution:ebs-unused:run-1",
		"arn:aws-us-gov:states:us-gov-west-1:111111111111:execution:p:n", "ch-", "vol-1", " ch-ab ", "arn:aws:states:::execution::", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			if tg != (Target{}) {
				t.Fatalf("error with a target: %+v", tg)
			}
			return
		}
		if (tg.ChangeID == "") == (tg.ExecutionARN == "") {
			t.Fatalf("want exactly one of change id and execution: %+v", tg)
		}
		if tg.ExecutionARN != "" && !strings.HasPrefix(tg.ExecutionARN, "arn:") {
			t.Fatalf("execution %q", tg.ExecutionARN)
		}
		if strings.ContainsAny(tg.ChangeID+tg.ExecutionARN, " \n\t") {
			t.Fatalf("whitespace kept: %+v", tg)
		}
	})
}

// FuzzRecipes feeds every recipe arbitrary parameters, before reads and
// results (what playbooks and AWS hand the gate): building undo calls,
// planned results, resource names and drift must never panic.
func FuzzRecipes(f *testing.F) {
	f.Add(`{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"tcp"}]}`, `{"Rules":[{"CidrIpv4":"0.0.0.0/0"}]}`, `{"SnapshotId":"snap-1"}`)
	f.Add(`{"ChangeBatch":{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"a"}}]}}`, `{"RecordSets":[null,{"Name":1}]}`, `[]`)
	f.Add(`{"Resources":["vol-1"],"Tags":[{"Key":"k"},3]}`, `{"Tags":{"vol-1":{"k":"v"}}}`, `null`)
	f.Add(`{"FindingIdentifiers":[{"Id":"f"}],"Workflow":{"Status":"RESOLVED"}}`, `{"WorkflowStatus":{"f":"NEW"}}`, `{"Policy":{"Arn":7}}`)
	f.Add(`[1,2]`, `"x"`, `{"PolicyVersion":{"IsDefaultVersion":true}}`)
	names := Recipes()
	f.Fuzz(func(t *testing.T, params, before, result string) {
		p := asObj(decode([]byte(params)))
		b, r := decode([]byte(before)), decode([]byte(result))
		for _, n := range names {
			svc, act, _ := strings.Cut(n, ":")
			rc := recipeFor(svc, act)
			rc.resourceOf(p)
			u := rc.undoOf(p, b, r)
			normalize(u)
			if rc.planned != nil {
				rc.planned(p, "abc", target{Account: "1"})
			}
			var d []Diff
			diff("", b, r, &d)
			if rc.read != nil {
				// A read over a fake that answers with the fuzzed before.
				rc.read(context.Background(), func(context.Context, string, string, obj) (obj, error) { return asObj(b), nil }, p, r)
			}
		}
	})
}
