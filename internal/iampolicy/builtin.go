package iampolicy

import "strings"

// TaggingActions are what writing steward's own tags needs in a member
// account: the Resource Groups Tagging API, plus each service's own tag
// permission, which TagResources and UntagResources also require ("you need
// the necessary permissions for the service that the resource belongs to"),
// for the resource types steward's playbooks tag. The tagger role holds
// these and nothing that changes a resource.
var TaggingActions = []string{
	"tag:GetResources",
	"tag:TagResources",
	"tag:UntagResources",
	"ec2:CreateTags",
	"ec2:DeleteTags",
	"s3:GetBucketTagging",
	"s3:PutBucketTagging",
	"rds:AddTagsToResource",
	"rds:RemoveTagsFromResource",
	"rds:ListTagsForResource",
	"elasticloadbalancing:AddTags",
	"elasticloadbalancing:RemoveTags",
	"route53:ChangeTagsForResource",
	"cloudfront:TagResource",
	"cloudfront:UntagResource",
	"iam:TagRole",
	"iam:UntagRole",
	"iam:TagUser",
	"iam:UntagUser",
	"iam:TagPolicy",
	"iam:UntagPolicy",
	"sns:TagResource",
	"sns:UntagResource",
}

// serviceTagging are the service-specific entries of TaggingActions.
var serviceTagging = func() map[string]bool {
	m := map[string]bool{}
	for _, a := range TaggingActions {
		if !strings.HasPrefix(a, "tag:") {
			m[a] = true
		}
	}
	return m
}()

// LookupActions are what the owner and last-seen bookkeeping read:
// CloudTrail's event history.
var LookupActions = []string{"cloudtrail:LookupEvents"}

// builtinActions are the IAM actions steward calls in the member account
// on behalf of each built-in task (see the contract's built-in tasks).
// Tasks that act only on steward's side (notify, approval, plan, record)
// need none there.
var builtinActions = map[string][]string{
	"steward:tag":       TaggingActions,
	"steward:untag":     TaggingActions,
	"steward:last-seen": append(append([]string{}, TaggingActions...), LookupActions...),
	"steward:owner":     append(append([]string{}, TaggingActions...), LookupActions...),
	"steward:exception": {"tag:GetResources"},
	"steward:notify":    {},
	"steward:approval":  {},
	"steward:plan":      {},
	"steward:record":    {},
}

// BuiltinActions returns the IAM actions a built-in task (steward:tag,
// ...) needs in the member account, and whether the task is known.
func BuiltinActions(name string) ([]string, bool) {
	acts, ok := builtinActions[name]
	return append([]string{}, acts...), ok
}

// StewardSideActions are what steward's own principal needs (in its home
// account): assume the member roles. See StewardPolicy.
var StewardSideActions = []string{"sts:AssumeRole"}
