// Package iampolicy works out the IAM permissions a playbook needs: the
// actions its aws-sdk Task states call (arn:aws:states:::aws-sdk:ec2:
// deleteVolume needs ec2:DeleteVolume), what steward's built-in tasks
// (steward:tag, steward:owner, ...) call on its behalf, and a least-privilege
// policy document per playbook.
//
// Step Functions names an aws-sdk integration by the SDK's service name and
// the operation in camelCase; IAM names the same call by a service prefix and
// an action that usually, but not always, match. The differences kept here
// come from AWS's Service Authorization Reference: service prefixes
// (elasticloadbalancingv2 → elasticloadbalancing, resourcegroupstaggingapi →
// tag, sfn → states, redshiftdata → redshift-data, ...), and operations
// whose permission has another name or needs more than one action (S3's
// PutPublicAccessBlock → s3:PutBucketPublicAccessBlock, ListObjectsV2 →
// s3:ListBucket, CopyObject → s3:GetObject and s3:PutObject, ...).
//
// The package does no I/O; it reads definitions through internal/asl.
package iampolicy
