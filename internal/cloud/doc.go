// Package cloud is how steward acts in AWS: the inventory of accounts and
// regions, credentials per account through STS AssumeRole, one SDK client
// per (account, region, service) with its own rate limiter and retries that
// survive throttling, and the aws-sdk task integration that serves Task
// states whose Resource is arn:aws:states:::aws-sdk:<service>:<action>.
//
// # Inventory
//
// An Inventory lists the accounts to act in, each with a class
// (production, development, sandbox, ...), the regions to act in and the
// role to assume. It comes from a YAML file (ParseInventory, LoadInventoryFile)
// and/or from AWS Organizations (FromOrganizations); entries in the file
// override what Organizations says about the same account.
//
// # Clients
//
// New builds a Cloud from a Config. Cloud.Client returns the client of one
// service for one account and region, built once and kept. Every client
// shares one HTTP client and signs with the account's credentials: the
// assumed role's temporary credentials, cached per role and refreshed
// Config.RefreshBefore ahead of expiry, with concurrent callers sharing a
// single AssumeRole call. The endpoint is Config.Endpoint, else
// AWS_ENDPOINT_URL, else AWS's own; so the same code runs against AWS,
// LocalStack, moto or internal/awssim. AWS_CA_BUNDLE is applied to the
// HTTP client only for https endpoints.
//
// # Throttling
//
// Every attempt of every call waits on a token bucket per (account,
// region, service) (Config.Rate, Config.Burst, Config.Rates). Failed
// attempts are retried by the SDK's standard retryer (never its adaptive
// mode) with a very high attempt limit, exponential backoff with full
// jitter, and no retry quota, so a call gives up on throttling or 5xx
// errors only when its context ends. Cloud.Throttles and Cloud.Stats count
// throttling errors and attempts per (account, region, service).
//
// # The aws-sdk task integration
//
// Cloud.Invoke serves arn:aws:states:::aws-sdk:<service>:<action> for the
// services in Services, generically: it finds the SDK client method named
// for the action (describeVolumes -> DescribeVolumes), decodes the Task's
// effective input (PascalCase, as Step Functions takes it) into the
// method's input struct, calls it, and renders the output struct back as
// JSON in the API's PascalCase shape, without ResultMetadata and unset
// fields, with times in ISO 8601 UTC as Step Functions shows them.
//
// Where it acts: the Task's Credentials.RoleArn, when present, names the
// role to assume, and so the account (the account in the ARN). Otherwise
// the account and region come from the context (WithTarget); the engine
// sets that per execution from the execution input's "account" and
// "region" fields (TargetFromInput), and Config.DefaultAccount and
// Config.DefaultRegion fill what is still missing. The region always comes
// from the context or the default, since Step Functions' Credentials field
// carries only a role.
//
// Errors are named as Step Functions names them for AWS SDK integrations:
// the service name in PascalCase, a dot, and the error code with an
// "Exception" suffix when the code lacks one (Step Functions' documented
// rule: S3's BucketAlreadyExists is S3.BucketAlreadyExistsException).
// So EC2's InvalidVolume.NotFound is Ec2.InvalidVolume.NotFoundException and
// IAM's NoSuchEntity is Iam.NoSuchEntityException. The cause is AWS's
// message followed by "(Service: Ec2, Status Code: 400, Request ID: ...)".
// Failures before AWS answers (unknown service or action, parameters that
// do not fit the input shape, an unknown account or region) fail as
// States.TaskFailed with a cause naming the service, action, account and
// region.
package cloud
