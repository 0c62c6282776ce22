package cloud

import (
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// serviceSpec says how to build a service's client and name its errors.
type serviceSpec struct {
	// Prefix is the service's name in Step Functions error names
	// ("Ec2" in Ec2.InvalidVolume.NotFoundException).
	Prefix string
	// Global services have one endpoint for every region: their calls
	// skip the inventory's region check.
	Global bool
	// StringNumbers are output fields the API has as strings and the Go
	// SDK as numbers; they are rendered as strings.
	StringNumbers map[string]bool
	// New builds the client; customEndpoint is true when every service
	// shares one non-AWS endpoint (S3 then uses path-style addressing).
	New func(cfg aws.Config, customEndpoint bool) any
}

// serviceSpecs are the services of the aws-sdk task integration, by the
// name Step Functions uses in arn:aws:states:::aws-sdk:<service>:<action>.
var serviceSpecs = map[string]serviceSpec{
	"ec2": {Prefix: "Ec2", New: func(c aws.Config, _ bool) any { return ec2.NewFromConfig(c) }},
	"iam": {Prefix: "Iam", Global: true, New: func(c aws.Config, _ bool) any { return iam.NewFromConfig(c) }},
	"s3": {Prefix: "S3", New: func(c aws.Config, custom bool) any {
		return s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = custom })
	}},
	"route53":    {Prefix: "Route53", Global: true, StringNumbers: map[string]bool{"MaxItems": true}, New: func(c aws.Config, _ bool) any { return route53.NewFromConfig(c) }},
	"cloudfront": {Prefix: "CloudFront", Global: true, New: func(c aws.Config, _ bool) any { return cloudfront.NewFromConfig(c) }},
	"elasticloadbalancingv2": {Prefix: "ElasticLoadBalancingV2", New: func(c aws.Config, _ bool) any {
		return elasticloadbalancingv2.NewFromConfig(c)
	}},
	"rds":           {Prefix: "Rds", New: func(c aws.Config, _ bool) any { return rds.NewFromConfig(c) }},
	"cloudtrail":    {Prefix: "CloudTrail", New: func(c aws.Config, _ bool) any { return cloudtrail.NewFromConfig(c) }},
	"cloudwatch":    {Prefix: "CloudWatch", New: func(c aws.Config, _ bool) any { return cloudwatch.NewFromConfig(c) }},
	"sts":           {Prefix: "Sts", New: func(c aws.Config, _ bool) any { return sts.NewFromConfig(c) }},
	"organizations": {Prefix: "Organizations", Global: true, New: func(c aws.Config, _ bool) any { return organizations.NewFromConfig(c) }},
	"sns":           {Prefix: "Sns", New: func(c aws.Config, _ bool) any { return sns.NewFromConfig(c) }},
	"securityhub":   {Prefix: "SecurityHub", New: func(c aws.Config, _ bool) any { return securityhub.NewFromConfig(c) }},
	"resourcegroupstaggingapi": {Prefix: "ResourceGroupsTaggingApi", New: func(c aws.Config, _ bool) any {
		return resourcegroupstaggingapi.NewFromConfig(c)
	}},
}

// ServiceNames lists the services of the aws-sdk task integration.
func ServiceNames() []string {
	out := make([]string, 0, len(serviceSpecs))
	for n := range serviceSpecs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
