package awssim

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

func TestCloudWatchGetMetricStatistics(t *testing.T) {
	s, u := newTestSim(t, Options{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var pts []Datapoint
	for i := 0; i < 6; i++ {
		pts = append(pts, Datapoint{Time: t0.Add(time.Duration(i) * 30 * time.Minute), Value: float64(i)})
	}
	err := s.AddResources(testAccount, testRegion, Resources{Metrics: []MetricSeries{
		{Namespace: "AWS/RDS", Name: "DatabaseConnections", Dimensions: map[string]string{"DBInstanceIdentifier": "db1"}, Unit: "Count", Points: pts},
		{Namespace: "AWS/RDS", Name: "DatabaseConnections", Dimensions: map[string]string{"DBInstanceIdentifier": "db2"}, Points: []Datapoint{{Time: t0, Value: 99}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := cloudwatch.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	out, err := c.GetMetricStatistics(ctx(t), &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/RDS"), MetricName: aws.String("DatabaseConnections"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String("db1")}},
		StartTime:  aws.Time(t0), EndTime: aws.Time(t0.Add(3 * time.Hour)), Period: aws.Int32(3600),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticMaximum, cwtypes.StatisticSum, cwtypes.StatisticSampleCount},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Datapoints) != 3 {
		t.Fatalf("datapoints = %+v", out.Datapoints)
	}
	first := out.Datapoints[0]
	if aws.ToFloat64(first.Maximum) != 1 || aws.ToFloat64(first.Sum) != 1 || aws.ToFloat64(first.SampleCount) != 2 || !first.Timestamp.Equal(t0) || first.Unit != cwtypes.StandardUnitCount {
		t.Fatalf("first datapoint = %+v", first)
	}
	_, err = c.GetMetricStatistics(ctx(t), &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/RDS"), MetricName: aws.String("DatabaseConnections"),
		StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Hour)), Period: aws.Int32(3600),
	})
	if errorCode(err) != "InvalidParameterCombination" {
		t.Fatalf("no statistics: %v", err)
	}
}
