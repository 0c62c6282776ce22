// Package awssim is an in-process simulated AWS for tests and `steward
// demo`. It speaks the real wire protocols, so unmodified aws-sdk-go-v2
// clients work against it when pointed at its URL with BaseEndpoint. It is a
// test and demo tool: nothing on a production path may depend on it.
//
// # Using it
//
//	sim := awssim.New(awssim.Options{Now: clock.Now})
//	sc, err := awssim.LoadScenario(f)   // YAML, see below
//	err = sim.Apply(sc)
//	url, stop := sim.Start()            // http://127.0.0.1:PORT
//	defer stop()
//	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
//		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}
//	ec2.NewFromConfig(cfg).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{})
//
// Build the aws.Config by hand (or clear AWS_CA_BUNDLE) so the environment's
// CA bundle and profile settings do not apply to a plain-HTTP endpoint.
//
// # Routing, accounts and credentials
//
// Every request is routed by the credential scope of its SigV4
// Authorization header (Credential=AKID/DATE/REGION/SERVICE/aws4_request):
// SERVICE picks the Service, REGION the regional state. Signatures are NOT
// verified. The account comes from the access key: base keys (Scenario
// credentials, Sim.AddCredential, active IAM user keys) map to their home
// account; STS AssumeRole on arn:aws:iam::ACCOUNT:role/NAME issues temporary
// keys that map to ACCOUNT (which must be an account of the scenario; if that
// account lists IAM roles, NAME must be one of them); they work only with
// their session token (X-Amz-Security-Token) and until they expire. Unknown
// keys get AWS's error: AuthFailure (401) on EC2, InvalidClientTokenId (403)
// elsewhere; expired ones RequestExpired (EC2) or ExpiredToken.
//
// State is kept per (account, region) in a RegionState; IAM is global per
// account (IAMState), as in AWS. Each has its own mutex; handlers hold it for
// the duration of one call, so calls are atomic and the sim is safe for
// concurrent use. Sim.WithRegion and Sim.WithIAM give tests the same access.
//
// # Eventual state
//
// Transitions AWS makes asynchronously are scheduled on the sim's clock
// (Options.Now) and applied when a later call sees the clock past them,
// Options.SettleDelay after the mutating call: a new EBS snapshot is
// "pending" then "completed"; DeleteVolume leaves the volume "deleting"
// until it disappears; DetachVolume goes "detaching" then the volume is
// "available"; AttachVolume "attaching" then "attached"; StopInstances
// "stopping" then "stopped"; TerminateInstances "shutting-down" then
// "terminated" (volumes with DeleteOnTermination go away); RunInstances
// "pending" then "running"; ModifyInstanceMetadataOptions "pending" then
// "applied"; RDS deletions and snapshots likewise. With SettleDelay zero
// the mutating call still answers with the transitional state and the next
// call sees the final one.
//
// # Faults and call accounting
//
// SetFaults makes a share of calls fail with the protocol's throttling
// error (EC2: RequestLimitExceeded, HTTP 503; query services, Route 53 and
// CloudFront: Throttling, HTTP 400, Route 53's ChangeResourceRecordSets
// PriorRequestNotComplete; S3: SlowDown, HTTP 503; CloudTrail:
// ThrottlingException, HTTP 400; tagging: ThrottledException, HTTP 400;
// Organizations: TooManyRequestsException, HTTP 429; Security Hub:
// LimitExceededException, HTTP 429) or InternalError 500, drawn from a seeded source (deterministic
// for a given call order). Calls counts every call as "service:Action" and
// "total", faults included; ResetCalls zeroes them.
//
// # Services served here
//
//   - sts (awsquery): AssumeRole, GetCallerIdentity.
//   - ec2 (ec2query): volumes, snapshots, instances, security groups and
//     rules, Elastic IPs, internet gateways, VPCs (minimal), account-level
//     instance metadata defaults, tags; EC2 filters with
//     wildcards; MaxResults (5..1000) / NextToken paging where EC2 pages
//     (the page is cut first and filtered after, as EC2 does, so a filtered
//     page may hold fewer items, even none, and still carry a NextToken).
//   - iam (awsquery): managed policies and versions, roles, users, access
//     keys, tags; Marker/IsTruncated/MaxItems paging.
//   - elasticloadbalancing (awsquery, API 2015-12-01 only): load balancers,
//     target groups, target health, tags, attributes.
//   - rds (awsquery): DB instances and snapshots, tags.
//   - sns (awsquery): CreateTopic, ListTopics, Publish (Sim.Published reads
//     what was published).
//   - monitoring (CloudWatch, Smithy RPC v2 CBOR, the protocol of the
//     aws-sdk-go-v2 cloudwatch module in go.mod): GetMetricStatistics over
//     seeded datapoints.
//   - s3 (REST/XML, path-style and virtual-host-style, S3's <Error> shape):
//     buckets (global names, a home region, owned by one account): List
//     (paging), Head, Create, Delete (BucketNotEmpty), GetBucketLocation,
//     public access block, policy and policy status, tagging, website,
//     PutObject, HeadObject, DeleteObject and ListObjects(V2) over object
//     sizes (no content). New buckets get a full public
//     access block, as AWS does since 2023. S3 Control (also signed "s3",
//     path /v20180820/...): account-level Get/Put/DeletePublicAccessBlock.
//   - route53 (REST/XML, global): hosted zones (Marker paging, apex NS and
//     SOA added, HostedZoneNotEmpty), record sets in Route 53's order
//     (StartRecordName/Type paging, alias records), ChangeResourceRecordSets
//     (CREATE/DELETE/UPSERT, atomic, InvalidChangeBatch with AWS's
//     messages), GetChange (PENDING until SettleDelay), tags.
//   - cloudfront (REST/XML, global): distributions with their whole
//     DistributionConfig document stored as sent; List (Marker paging),
//     Get, GetConfig and Update with ETag / If-Match (InvalidIfMatchVersion,
//     PreconditionFailed), Create, Delete (disabled and deployed only).
//   - cloudtrail (awsJson1_1): LookupEvents over events seeded per account
//     and region (AddCloudTrailEvents or YAML, from fields or a raw record):
//     one LookupAttribute, StartTime/EndTime (default: the last 90 days),
//     MaxResults 1..50, NextToken, newest first.
//   - organizations (awsJson1_1): the organisation is Sim.Accounts (see
//     organizationsService): DescribeOrganization, ListAccounts, ListRoots,
//     ListOrganizationalUnitsForParent, ListParents, ListAccountsForParent,
//     DescribeAccount, ListTagsForResource, paging; management account only.
//   - tagging (awsJson1_1): GetResources (TagFilters, ResourceTypeFilters,
//     ResourceARNList, paging), TagResources, UntagResources over the
//     tagged resources of the other services.
//   - securityhub (restJson1): BatchImportFindings (ASFF required fields
//     checked), GetFindings (string filters such as Id, ComplianceStatus,
//     WorkflowStatus, ResourceId; date, number and map filters such as
//     UpdatedAt, SeverityNormalized, ResourceTags; paging), BatchUpdateFindings (workflow,
//     note, severity...); findings per account and region.
//
// The REST and JSON services keep their state in the service value (global
// to the sim and keyed by account, and by region where AWS is regional)
// rather than in RegionState.Ext; Sim.AddBuckets, AddHostedZones,
// AddDistributions, AddCloudTrailEvents, AddFindings and
// SetAccountPublicAccessBlock seed it from Go.
//
// # Adding a service
//
// A service is a value implementing Service, registered with Sim.Register
// under its SigV4 signing name (the SERVICE of the credential scope, e.g.
// "s3", "route53", "cloudfront", "cloudtrail", "organizations", "tagging",
// "securityhub"). The sim authenticates the caller, sets Request.Account,
// Region, Principal and RequestID, asks Operation for the operation name
// (used for call counts and fault injection), injects faults through
// WriteError, and otherwise calls Serve. For a REST/JSON service:
//
//	type route53Service struct{ sim *awssim.Sim }
//
//	func (s *route53Service) SigningName() string { return "route53" }
//	func (s *route53Service) Operation(r *awssim.Request) (string, error) {
//		// From method + path (REST) or the X-Amz-Target header (JSON).
//	}
//	func (s *route53Service) Serve(w http.ResponseWriter, r *awssim.Request) {
//		err := s.sim.WithRegion(r.Account, "us-east-1", func(rs *awssim.RegionState) error {
//			st, _ := rs.Ext["route53"].(*route53State) // create on first use
//			...
//		})
//	}
//	func (s *route53Service) WriteError(w http.ResponseWriter, r *awssim.Request, e *awssim.APIError) {
//		// The protocol's error shape; e.Status, e.Code, e.Message.
//	}
//
//	sim.Register(&route53Service{sim: sim})
//
// Keep per-region state in RegionState.Ext[signingName] (global services
// use one fixed region, as IAM's state is per account). Scenario YAML has an
// "ext" mapping per account whose nodes such services decode themselves.
// Sim.Accounts lists the organisation (id, name, email, class, OU, tags) for
// an Organizations service.
//
// # Scenario YAML
//
//	regions: [us-east-1, eu-west-1]
//	credentials:
//	  - {access_key_id: AKIDHOME, secret_access_key: secret, account: "111111111111"}
//	accounts:
//	  - id: "111111111111"
//	    name: security
//	    class: production
//	    ou: Root/Security
//	    tags: {owner: secops}
//	    iam:
//	      policies:
//	        - name: wide-open
//	          versions:
//	            - {id: v1, document: '{"Version":"2012-10-17","Statement":[]}', default: true}
//	      roles: [{name: StewardRemediation, attached_policies: [arn:aws:iam::aws:policy/AdministratorAccess]}]
//	      users: [{name: alice, access_keys: [{id: AKIAALICE0001, secret: s, status: Active}]}]
//	    regions:
//	      us-east-1:
//	        instances:
//	          - {id: i-0123456789abcdef0, state: running, http_tokens: optional, security_groups: [sg-0123456789abcdef0], tags: {Name: web}}
//	        volumes:
//	          - {id: vol-0123456789abcdef0, size: 8, create_time: 2025-01-01T00:00:00Z}
//	          - {id: vol-0123456789abcdef1, attachments: [{instance_id: i-0123456789abcdef0, device: /dev/xvda}]}
//	        snapshots: [{id: snap-0123456789abcdef0, volume_id: vol-0123456789abcdef0}]
//	        security_groups:
//	          - id: sg-0123456789abcdef0
//	            name: web
//	            ingress: [{protocol: tcp, from_port: 22, to_port: 22, cidr: 0.0.0.0/0}]
//	        addresses: [{allocation_id: eipalloc-0123456789abcdef0}]
//	        internet_gateways: [{id: igw-0123456789abcdef0, vpc_id: vpc-01234567}]
//	        load_balancers: [{name: web}]
//	        target_groups: [{name: web-tg, targets: [{id: i-0123456789abcdef0}]}]
//	        db_instances: [{id: orders, engine: postgres}]
//	        topics: [{name: steward-alerts}]
//	        metrics:
//	          - namespace: AWS/EC2
//	            name: CPUUtilization
//	            dimensions: {InstanceId: i-0123456789abcdef0}
//	            points: [{time: 2025-01-01T00:00:00Z, value: 3.5}]
//	    s3_public_access_block: {block_public_acls: true}
//	    buckets:
//	      - {name: site, region: us-east-1, policy: '{"Statement":[]}', tags: {owner: web}, objects: {index.html: 120},
//	         website: {index_document: index.html}, public_access_block: {block_public_policy: true}}
//	    hosted_zones:
//	      - name: example.com
//	        records: [{name: www.example.com, type: A, alias: {hosted_zone_id: Z2FDTNDATAQYW2, dns_name: d1.cloudfront.net}}]
//	    distributions:
//	      - {id: E1OQK8XICQK4UM, comment: site, origins: [{domain_name: site.s3.amazonaws.com}]}
//	    cloudtrail_events:
//	      - {event_name: PutBucketPolicy, username: alice, event_time: 2025-01-01T00:00:00Z, resources: [{type: "AWS::S3::Bucket", name: site}]}
//	      - {region: eu-west-1, raw: '{"eventID":"e-1","eventName":"CreateBucket",...}'}
//	    findings:
//	      - {region: us-east-1, json: '{"SchemaVersion":"2018-10-08","Id":"f-1",...}'}   # or asff: {mapping}
//
// Tags may be a mapping or a list of {key, value}. Missing ids, times,
// states and sizes get defaults. For bulk seeding from Go (thousands of
// resources) use Sim.AddResources and Sim.AddIAM, which take each lock once.
package awssim
