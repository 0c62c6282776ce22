package engine

import (
	"strings"
	"testing"

	"github.com/stewardhq/steward/internal/testdata"
)

// TestRunJSONata runs playbooks written in JSONata, as Step Functions
// recommends since late 2024: Arguments, Output, Assign, Condition, Items,
// ItemSelector, $states, variables, Catch with $states.errorOutput.
func TestRunJSONata(t *testing.T) {
	tests := []struct {
		name, def, input string
		status, output   string
		err, causeHas    string
	}{
		{
			name: "arguments, result, assign and output",
			def: `{"QueryLanguage":"JSONata","StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"steward:echo","Arguments":{"vol":"{% $states.input.detail.volumeId %}","n":"{% $count($states.input.detail.tags) %}"},
				     "Assign":{"volume":"{% $states.result.vol %}"},"Output":"{% $states.result %}","Next":"P"},
				"P":{"Type":"Pass","Output":{"seen":"{% $volume %}","upper":"{% $uppercase($volume) %}","exec":"{% $states.context.Execution.Name %}"},"End":true}}}`,
			input:  `{"detail":{"volumeId":"vol-1","tags":[1,2,3]}}`,
			status: StatusSucceeded, output: `{"seen":"vol-1","upper":"VOL-1","exec":"e1"}`,
		},
		{
			name: "choice conditions and default",
			def: `{"QueryLanguage":"JSONata","StartAt":"C","States":{
				"C":{"Type":"Choice","Choices":[{"Condition":"{% $states.input.days >= 45 and $not($exists($states.input.exception)) %}","Next":"Fix","Output":{"why":"{% 'unattached ' & $states.input.days & ' days' %}"}}],"Default":"Skip"},
				"Fix":{"Type":"Succeed"},"Skip":{"Type":"Succeed","Output":"skip"}}}`,
			input:  `{"days":46}`,
			status: StatusSucceeded, output: `{"why":"unattached 46 days"}`,
		},
		{
			name: "map with items and item selector",
			def: `{"QueryLanguage":"JSONata","StartAt":"M","States":{
				"M":{"Type":"Map","Items":"{% $states.input.volumes[state='available'] %}","ItemSelector":{"id":"{% $states.context.Map.Item.Value.id %}","i":"{% $states.context.Map.Item.Index %}"},
				     "ItemProcessor":{"StartAt":"E","States":{"E":{"Type":"Pass","End":true}}},"Output":"{% $states.result.id %}","End":true}}}`,
			input:  `{"volumes":[{"id":"a","state":"available"},{"id":"b","state":"in-use"},{"id":"c","state":"available"}]}`,
			status: StatusSucceeded, output: `["a","c"]`,
		},
		{
			name: "catch with errorOutput",
			def: `{"QueryLanguage":"JSONata","StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"steward:fail","Arguments":{"Error":"Ec2.InvalidVolume.NotFound","Cause":"gone"},
				     "Catch":[{"ErrorEquals":["Ec2.InvalidVolume.NotFound"],"Assign":{"missing":"{% $states.errorOutput.Error %}"},"Output":"{% $states.errorOutput %}","Next":"After"}],"End":true},
				"After":{"Type":"Pass","Output":{"e":"{% $states.input.Cause %}","m":"{% $missing %}"},"End":true}}}`,
			input:  `{}`,
			status: StatusSucceeded, output: `{"e":"gone","m":"Ec2.InvalidVolume.NotFound"}`,
		},
		{
			name:   "wait seconds expression on the simulated clock",
			def:    `{"QueryLanguage":"JSONata","StartAt":"W","States":{"W":{"Type":"Wait","Seconds":"{% $states.input.s * 2 %}","Next":"P"},"P":{"Type":"Pass","Output":"{% $states.context.State.EnteredTime %}","End":true}}}`,
			input:  `{"s":30}`,
			status: StatusSucceeded, output: `"2025-03-01T12:01:00.000Z"`,
		},
		{
			name:   "Step Functions functions",
			def:    `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"p":"{% $partition([1,2,3], 2) %}","r":"{% $range(1, 5, 2) %}","h":"{% $hash('abc', 'SHA-256') %}","j":"{% $parse('{\"a\":1}') %}","u":"{% $length($uuid()) %}"},"End":true}}}`,
			input:  `{}`,
			status: StatusSucceeded, output: `{"p":[[1,2],[3]],"r":[1,3,5],"h":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","j":{"a":1},"u":36}`,
		},
		{
			name:   "evaluation error",
			def:    `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":{"x":"{% $nope(1) %}"},"End":true}}}`,
			input:  `{}`,
			status: StatusFailed, err: "States.QueryEvaluationError",
			causeHas: "The JSONata expression '$nope(1)' specified for the field 'Output/x' threw an error during evaluation. T1006",
		},
		{
			name:   "mixed: a JSONPath state in a JSONata-free machine calls a JSONata state",
			def:    `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"v.$":"$.v"},"Next":"B"},"B":{"Type":"Pass","QueryLanguage":"JSONata","Output":"{% $states.input.v + 1 %}","End":true}}}`,
			input:  `{"v":41}`,
			status: StatusSucceeded, output: `42`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tasks := basics()
			m := mustParse(t, tt.def)
			res, err := Run(t.Context(), RunParams{Machine: m, Input: mustJSON(t, tt.input), Tasks: tasks, Start: t0, ExecutionName: "e1"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status {
				t.Fatalf("status %s (%s: %s), want %s", res.Status, res.Error, res.Cause, tt.status)
			}
			if tt.output != "" {
				if d := testdata.JSONDiff("$", mustJSON(t, tt.output), res.Output, false); d != "" {
					t.Errorf("output %s: %s", jsonString(res.Output), d)
				}
			}
			if res.Error != tt.err {
				t.Errorf("error %q, want %q", res.Error, tt.err)
			}
			if !strings.Contains(res.Cause, tt.causeHas) {
				t.Errorf("cause %q does not contain %q", res.Cause, tt.causeHas)
			}
		})
	}
}
