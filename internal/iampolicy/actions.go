package iampolicy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Resource prefixes of Task states.
const (
	// SDKPrefix begins every aws-sdk integration.
	SDKPrefix = "arn:aws:states:::aws-sdk:"
	// integrationPrefix begins Step Functions' optimized integrations
	// (arn:aws:states:::sns:publish) and the aws-sdk ones.
	integrationPrefix = "arn:aws:states:::"
	// builtinPrefix begins steward's built-in tasks.
	builtinPrefix = "steward:"
)

// ErrUnknownService reports an aws-sdk service whose IAM prefix this
// package does not know.
var ErrUnknownService = errors.New("iampolicy: unknown service")

// ErrBadResource reports a Task resource that is not a well-formed
// integration ARN.
var ErrBadResource = errors.New("iampolicy: malformed task resource")

// servicePrefixes maps the service names Step Functions uses in
// arn:aws:states:::aws-sdk:<service>:<action> (the SDK's names, lower case)
// to IAM service prefixes, where they differ or where steward serves the
// service. A service absent here is unknown (ErrUnknownService) rather than
// guessed: a wrong prefix would make a policy that silently fails.
var servicePrefixes = map[string]string{
	// The services of steward's aws-sdk integration (internal/cloud).
	"ec2":                      "ec2",
	"iam":                      "iam",
	"s3":                       "s3",
	"route53":                  "route53",
	"cloudfront":               "cloudfront",
	"elasticloadbalancingv2":   "elasticloadbalancing",
	"rds":                      "rds",
	"cloudtrail":               "cloudtrail",
	"cloudwatch":               "cloudwatch",
	"sts":                      "sts",
	"organizations":            "organizations",
	"sns":                      "sns",
	"securityhub":              "securityhub",
	"resourcegroupstaggingapi": "tag",
	// Other services playbooks written for Step Functions call.
	"s3control":               "s3",
	"elasticloadbalancing":    "elasticloadbalancing",
	"sfn":                     "states",
	"events":                  "events",
	"eventbridge":             "events",
	"cloudwatchevents":        "events",
	"cloudwatchlogs":          "logs",
	"redshiftdata":            "redshift-data",
	"config":                  "config",
	"configservice":           "config",
	"guardduty":               "guardduty",
	"inspector2":              "inspector2",
	"accessanalyzer":          "access-analyzer",
	"lambda":                  "lambda",
	"dynamodb":                "dynamodb",
	"sqs":                     "sqs",
	"ssm":                     "ssm",
	"kms":                     "kms",
	"secretsmanager":          "secretsmanager",
	"cloudformation":          "cloudformation",
	"wafv2":                   "wafv2",
	"acm":                     "acm",
	"autoscaling":             "autoscaling",
	"applicationautoscaling":  "application-autoscaling",
	"efs":                     "elasticfilesystem",
	"elasticache":             "elasticache",
	"ecs":                     "ecs",
	"ecr":                     "ecr",
	"eks":                     "eks",
	"emr":                     "elasticmapreduce",
	"kinesis":                 "kinesis",
	"firehose":                "firehose",
	"athena":                  "athena",
	"glue":                    "glue",
	"apigateway":              "apigateway",
	"sesv2":                   "ses",
	"ses":                     "ses",
	"cognitoidentityprovider": "cognito-idp",
	"costexplorer":            "ce",
	"backup":                  "backup",
	"redshift":                "redshift",
	"opensearch":              "es",
	"codebuild":               "codebuild",
	"batch":                   "batch",
	"ssoadmin":                "sso",
	"identitystore":           "identitystore",
	"account":                 "account",
	"support":                 "support",
}

// actionOverrides maps "<service>:<Action>" (Step Functions' service name,
// the operation in PascalCase) to the IAM actions the call needs, where
// they are not simply "<prefix>:<Action>". From the Service Authorization
// Reference and each operation's API reference ("To use this operation, you
// must have the ... permission").
var actionOverrides = map[string][]string{
	// S3: bucket subresources are named after the subresource, listing is
	// ListBucket, Delete* of a configuration is its Put*.
	"s3:PutPublicAccessBlock":                     {"s3:PutBucketPublicAccessBlock"},
	"s3:GetPublicAccessBlock":                     {"s3:GetBucketPublicAccessBlock"},
	"s3:DeletePublicAccessBlock":                  {"s3:PutBucketPublicAccessBlock"},
	"s3:ListObjects":                              {"s3:ListBucket"},
	"s3:ListObjectsV2":                            {"s3:ListBucket"},
	"s3:HeadBucket":                               {"s3:ListBucket"},
	"s3:HeadObject":                               {"s3:GetObject"},
	"s3:ListBuckets":                              {"s3:ListAllMyBuckets"},
	"s3:ListObjectVersions":                       {"s3:ListBucketVersions"},
	"s3:ListMultipartUploads":                     {"s3:ListBucketMultipartUploads"},
	"s3:ListParts":                                {"s3:ListMultipartUploadParts"},
	"s3:DeleteObjects":                            {"s3:DeleteObject"},
	"s3:CopyObject":                               {"s3:GetObject", "s3:PutObject"},
	"s3:CreateMultipartUpload":                    {"s3:PutObject"},
	"s3:UploadPart":                               {"s3:PutObject"},
	"s3:CompleteMultipartUpload":                  {"s3:PutObject"},
	"s3:UploadPartCopy":                           {"s3:GetObject", "s3:PutObject"},
	"s3:DeleteBucketTagging":                      {"s3:PutBucketTagging"},
	"s3:GetBucketEncryption":                      {"s3:GetEncryptionConfiguration"},
	"s3:PutBucketEncryption":                      {"s3:PutEncryptionConfiguration"},
	"s3:DeleteBucketEncryption":                   {"s3:PutEncryptionConfiguration"},
	"s3:GetBucketLifecycleConfiguration":          {"s3:GetLifecycleConfiguration"},
	"s3:PutBucketLifecycleConfiguration":          {"s3:PutLifecycleConfiguration"},
	"s3:DeleteBucketLifecycle":                    {"s3:PutLifecycleConfiguration"},
	"s3:GetBucketReplication":                     {"s3:GetReplicationConfiguration"},
	"s3:PutBucketReplication":                     {"s3:PutReplicationConfiguration"},
	"s3:DeleteBucketReplication":                  {"s3:PutReplicationConfiguration"},
	"s3:GetBucketCors":                            {"s3:GetBucketCORS"},
	"s3:PutBucketCors":                            {"s3:PutBucketCORS"},
	"s3:DeleteBucketCors":                         {"s3:PutBucketCORS"},
	"s3:GetBucketNotificationConfiguration":       {"s3:GetBucketNotification"},
	"s3:PutBucketNotificationConfiguration":       {"s3:PutBucketNotification"},
	"s3:GetBucketAccelerateConfiguration":         {"s3:GetAccelerateConfiguration"},
	"s3:PutBucketAccelerateConfiguration":         {"s3:PutAccelerateConfiguration"},
	"s3:GetBucketAnalyticsConfiguration":          {"s3:GetAnalyticsConfiguration"},
	"s3:GetBucketInventoryConfiguration":          {"s3:GetInventoryConfiguration"},
	"s3:GetBucketMetricsConfiguration":            {"s3:GetMetricsConfiguration"},
	"s3:GetBucketIntelligentTieringConfiguration": {"s3:GetIntelligentTieringConfiguration"},
	"s3:GetObjectLockConfiguration":               {"s3:GetBucketObjectLockConfiguration"},
	"s3:PutObjectLockConfiguration":               {"s3:PutBucketObjectLockConfiguration"},
	"s3:DeleteBucketOwnershipControls":            {"s3:PutBucketOwnershipControls"},
	"s3:GetObjectAttributes":                      {"s3:GetObject", "s3:GetObjectAttributes"},
	// S3 Control: the account-level public access block.
	"s3control:GetPublicAccessBlock":    {"s3:GetAccountPublicAccessBlock"},
	"s3control:PutPublicAccessBlock":    {"s3:PutAccountPublicAccessBlock"},
	"s3control:DeletePublicAccessBlock": {"s3:PutAccountPublicAccessBlock"},
	// STS: GetCallerIdentity needs no permission (it cannot be denied).
	"sts:GetCallerIdentity": {},
	// CloudFront's API versions are not part of IAM action names, and the
	// Go SDK has none either; *WithTags operations need the tag permission.
	"cloudfront:CreateDistributionWithTags": {"cloudfront:CreateDistribution", "cloudfront:TagResource"},
	// Lambda's Invoke is InvokeFunction.
	"lambda:Invoke":      {"lambda:InvokeFunction"},
	"lambda:InvokeAsync": {"lambda:InvokeFunction"},
	// Security Hub's GetFindings v2 and the rest map one to one.
}

// dependentActions are further actions AWS checks when a call is made
// the way steward's playbooks make it. They are not the call's own
// permission (a playbook's metadata lists those), so they are kept apart
// (Permissions.Dependent) and added to policies.
var dependentActions = map[string][]string{
	// A deletion with a final snapshot (what steward does) creates the
	// snapshot with the caller's rights.
	"rds:DeleteDBInstance": {"rds:CreateDBSnapshot"},
	"rds:DeleteDBCluster":  {"rds:CreateDBClusterSnapshot"},
	// Creating with TagSpecifications (tag on create, as steward's
	// playbooks do) also needs ec2:CreateTags.
	"ec2:CreateSnapshot":      {"ec2:CreateTags"},
	"ec2:CreateSnapshots":     {"ec2:CreateTags"},
	"ec2:CreateSecurityGroup": {"ec2:CreateTags"},
	"ec2:CreateVolume":        {"ec2:CreateTags"},
	"ec2:AllocateAddress":     {"ec2:CreateTags"},
	"ec2:RunInstances":        {"ec2:CreateTags"},
}

// Dependent returns the further IAM actions AWS checks when action (an
// IAM action such as rds:DeleteDBInstance) is called as steward's
// playbooks call it; none for most.
func Dependent(action string) []string {
	return append([]string{}, dependentActions[action]...)
}

// optimizedExtras are the further actions Step Functions' optimized
// integrations need in their .sync (run a job) pattern.
var optimizedExtras = map[string][]string{
	"states:startExecution.sync": {"states:DescribeExecution", "states:StopExecution", "events:PutTargets", "events:PutRule", "events:DescribeRule"},
}

// Actions returns the IAM actions one aws-sdk call needs: service as in
// the Task resource (ec2, elasticloadbalancingv2, ...), action in camelCase
// or PascalCase (deleteVolume). It returns none for calls that need no
// permission (sts:GetCallerIdentity).
func Actions(service, action string) ([]string, error) {
	if service == "" || action == "" {
		return nil, fmt.Errorf("%w: empty service or action (%q:%q)", ErrBadResource, service, action)
	}
	if !validName(service) || !validName(action) {
		return nil, fmt.Errorf("%w: %q:%q is not <service>:<action>", ErrBadResource, service, action)
	}
	op := pascal(action)
	if acts, ok := actionOverrides[service+":"+op]; ok {
		return append([]string{}, acts...), nil
	}
	prefix, ok := servicePrefixes[service]
	if !ok {
		return nil, fmt.Errorf("%w %q (calling %s): add its IAM prefix to iampolicy", ErrUnknownService, service, op)
	}
	return []string{prefix + ":" + op}, nil
}

// validName reports whether s is a plain service or action name: letters,
// digits and hyphens.
func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// pascal upper-cases the first letter: Step Functions writes operations in
// camelCase (deleteVolume), IAM in PascalCase (DeleteVolume).
func pascal(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// ResourceKind says what a Task state's Resource names.
type ResourceKind int

// Kinds of Task resources.
const (
	// KindOther is a resource this package cannot attribute permissions to
	// (an activity, another product's ARN).
	KindOther ResourceKind = iota
	// KindSDK is an aws-sdk integration.
	KindSDK
	// KindOptimized is a Step Functions optimized integration
	// (arn:aws:states:::sns:publish).
	KindOptimized
	// KindBuiltin is a steward:* built-in task.
	KindBuiltin
	// KindLambda is a Lambda function ARN called directly.
	KindLambda
)

// ForResource returns the IAM actions a Task state's Resource needs in the
// account it acts in, and what kind of resource it is. Built-in tasks get
// what steward calls on their behalf (BuiltinActions).
func ForResource(resource string) ([]string, ResourceKind, error) {
	switch {
	case strings.HasPrefix(resource, SDKPrefix):
		base, _ := splitPattern(resource)
		service, action, ok := strings.Cut(strings.TrimPrefix(base, SDKPrefix), ":")
		if !ok || strings.Contains(action, ":") {
			return nil, KindSDK, fmt.Errorf("%w: %q is not %s<service>:<action>", ErrBadResource, resource, SDKPrefix)
		}
		acts, err := Actions(service, action)
		if err != nil {
			return nil, KindSDK, fmt.Errorf("task resource %q: %w", resource, err)
		}
		return acts, KindSDK, nil
	case strings.HasPrefix(resource, integrationPrefix):
		base, pattern := splitPattern(resource)
		service, action, ok := strings.Cut(strings.TrimPrefix(base, integrationPrefix), ":")
		if !ok || strings.Contains(action, ":") {
			return nil, KindOptimized, fmt.Errorf("%w: %q is not %s<service>:<action>", ErrBadResource, resource, integrationPrefix)
		}
		if service == "states" {
			service = "sfn"
		}
		acts, err := Actions(service, action)
		if err != nil {
			return nil, KindOptimized, fmt.Errorf("task resource %q: %w", resource, err)
		}
		if pattern == ".sync" || pattern == ".sync:2" {
			acts = append(acts, optimizedExtras[strings.TrimPrefix(base, integrationPrefix)+".sync"]...)
		}
		return acts, KindOptimized, nil
	case strings.HasPrefix(resource, builtinPrefix):
		acts, ok := builtinActions[strings.TrimSuffix(resource, ".waitForTaskToken")]
		if !ok {
			return nil, KindBuiltin, fmt.Errorf("task resource %q: %w: not a built-in task this package knows", resource, ErrUnknownService)
		}
		return append([]string{}, acts...), KindBuiltin, nil
	case strings.HasPrefix(resource, "arn:aws:lambda:") || strings.HasPrefix(resource, "arn:aws-us-gov:lambda:") || strings.HasPrefix(resource, "arn:aws-cn:lambda:"):
		return []string{"lambda:InvokeFunction"}, KindLambda, nil
	}
	return nil, KindOther, nil
}

// splitPattern splits an integration pattern suffix (.sync, .sync:2,
// .waitForTaskToken) off a resource.
func splitPattern(resource string) (base, pattern string) {
	for _, p := range []string{".sync:2", ".sync", ".waitForTaskToken"} {
		if strings.HasSuffix(resource, p) {
			return strings.TrimSuffix(resource, p), p
		}
	}
	return resource, ""
}
