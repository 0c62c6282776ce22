package pattern_test

import (
	"fmt"

	"github.com/stewardhq/steward/internal/pattern"
)

func ExampleCompile() {
	_, err := pattern.Compile([]byte(`{"detail":{"c-count":[{"numeric":[">",0,">",0]}]}}`))
	fmt.Println(err)
	// Output: Event pattern is not valid. Reason: Bad numeric range operator: >
}

func ExampleMatcher() {
	m := pattern.NewMatcher()
	m.Add("open-sg", pattern.MustCompile(`{
		"source": ["aws.ec2"],
		"detail": {
			"eventName": ["AuthorizeSecurityGroupIngress"],
			"requestParameters": {"ipPermissions": {"items": {"ipRanges": {"items": {"cidrIp": ["0.0.0.0/0"]}}}}}
		}
	}`))
	m.Add("any-ec2", pattern.MustCompile(`{"source": [{"prefix": "aws.ec2"}]}`))
	ids, err := m.Match([]byte(`{
		"source": "aws.ec2",
		"detail": {
			"eventName": "AuthorizeSecurityGroupIngress",
			"requestParameters": {"ipPermissions": {"items": [
				{"ipProtocol": "tcp", "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}
			]}}
		}
	}`))
	fmt.Println(ids, err)
	// Output: [any-ec2 open-sg] <nil>
}
