package cloud

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestDecodeInput(t *testing.T) {
	var in cloudwatch.GetMetricStatisticsInput
	err := decodeInput(decodeJSON(t, `{"Namespace":"AWS/RDS","MetricName":"DatabaseConnections",
		"StartTime":"2024-01-01T00:00:00Z","EndTime":1704153600,"Period":86400,"Statistics":["Maximum"],
		"Dimensions":[{"Name":"DBInstanceIdentifier","Value":"db1"}]}`), reflect.ValueOf(&in).Elem())
	if err != nil {
		t.Fatal(err)
	}
	if !in.StartTime.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) || !in.EndTime.Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("times %v %v", in.StartTime, in.EndTime)
	}
	if aws.ToInt32(in.Period) != 86400 || string(in.Statistics[0]) != "Maximum" || aws.ToString(in.Dimensions[0].Value) != "db1" {
		t.Fatalf("decoded %+v", in)
	}
	// Numbers of every kind the value model allows.
	for _, n := range []any{json.Number("5"), 5.0, 5, int64(5)} {
		var d ec2.DescribeVolumesInput
		if err := decodeInput(map[string]any{"MaxResults": n}, reflect.ValueOf(&d).Elem()); err != nil || aws.ToInt32(d.MaxResults) != 5 {
			t.Fatalf("MaxResults %T: %v", n, err)
		}
	}
	var d ec2.DescribeVolumesInput
	err = decodeInput(map[string]any{"MaxResults": 5.5}, reflect.ValueOf(&d).Elem())
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Path != "MaxResults" {
		t.Fatalf("fractional integer: %v", err)
	}
}

func TestRenderOutput(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 120_000_000, time.UTC)
	out := &ec2.DescribeVolumesOutput{Volumes: []ec2types.Volume{{
		VolumeId: aws.String("vol-1"), Size: aws.Int32(8), Encrypted: aws.Bool(false), CreateTime: &ts,
		VolumeType: ec2types.VolumeTypeGp3, Attachments: []ec2types.VolumeAttachment{},
	}}}
	got := renderOutput(reflect.ValueOf(out), nil)
	b, _ := json.Marshal(got)
	want := `{"Volumes":[{"Attachments":[],"CreateTime":"2024-05-06T07:08:09.120Z","Encrypted":false,"Size":8,"VolumeId":"vol-1","VolumeType":"gp3"}]}`
	if string(b) != want {
		t.Fatalf("render:\n got %s\nwant %s", b, want)
	}
	if s := FormatTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))); s != "2024-01-02T02:04:05Z" {
		t.Fatalf("FormatTime %s", s)
	}
}

func TestErrorName(t *testing.T) {
	tests := []struct{ prefix, code, want string }{
		{"Ec2", "InvalidVolume.NotFound", "Ec2.InvalidVolume.NotFoundException"},
		{"S3", "BucketAlreadyExists", "S3.BucketAlreadyExistsException"},
		{"Iam", "NoSuchEntity", "Iam.NoSuchEntityException"},
		{"Organizations", "DuplicateOrganizationalUnitException", "Organizations.DuplicateOrganizationalUnitException"},
	}
	for _, tt := range tests {
		if got := ErrorName(tt.prefix, tt.code); got != tt.want {
			t.Errorf("ErrorName(%s, %s) = %s, want %s", tt.prefix, tt.code, got, tt.want)
		}
	}
}

// FuzzDecodeInput feeds arbitrary JSON as task parameters to several
// input shapes: no panic, and every failure is a ParamError.
func FuzzDecodeInput(f *testing.F) {
	f.Add(`{"Filters":[{"Name":"tag:x","Values":["a"]}],"MaxResults":1000}`)
	f.Add(`{"StartTime":"2024-01-01T00:00:00Z","Period":1e400}`)
	f.Add(`{"MaxResults":-1,"VolumeIds":[null,1]}`)
	f.Add(`{"Dimensions":[{"Name":{}}],"EndTime":-1e300}`)
	f.Add(`[1,2]`)
	f.Fuzz(func(t *testing.T, src string) {
		d := json.NewDecoder(strings.NewReader(src))
		d.UseNumber()
		var v any
		if d.Decode(&v) != nil {
			return
		}
		for _, in := range []any{&ec2.DescribeVolumesInput{}, &cloudwatch.GetMetricStatisticsInput{}, &ec2.CreateSnapshotInput{}} {
			err := decodeInput(v, reflect.ValueOf(in).Elem())
			if err != nil && !errors.Is(err, ErrBadParameters) {
				t.Fatalf("error %v is not ErrBadParameters", err)
			}
		}
	})
}

func FuzzParseResource(f *testing.F) {
	f.Add("arn:aws:states:::aws-sdk:ec2:describeVolumes")
	f.Add("arn:aws:states:::aws-sdk:ec2:describeVolumes.waitForTaskToken")
	f.Add("arn:aws:states:::aws-sdk::")
	f.Fuzz(func(t *testing.T, r string) {
		svc, act, err := ParseResource(r)
		if err == nil && (svc == "" || act == "") {
			t.Fatalf("%q: empty service or action without error", r)
		}
		if err == nil {
			_, _, _ = findMethod(svc, act)
		}
	})
}
