package awssim

import (
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

func TestIAMPolicyVersions(t *testing.T) {
	_, u := newTestSim(t, Options{})
	c := iam.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	cp, err := c.CreatePolicy(ctx(t), &iam.CreatePolicyInput{PolicyName: aws.String("wide"), PolicyDocument: aws.String(allowAll),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("sec")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(cp.Policy.Arn)
	if arn != "arn:aws:iam::"+testAccount+":policy/wide" || aws.ToString(cp.Policy.DefaultVersionId) != "v1" {
		t.Fatalf("policy: %+v", cp.Policy)
	}
	if _, err := c.CreatePolicy(ctx(t), &iam.CreatePolicyInput{PolicyName: aws.String("wide"), PolicyDocument: aws.String(allowAll)}); errorCode(err) != "EntityAlreadyExists" {
		t.Fatalf("duplicate: %v", err)
	}
	for i := 2; i <= 5; i++ {
		if _, err := c.CreatePolicyVersion(ctx(t), &iam.CreatePolicyVersionInput{PolicyArn: &arn, PolicyDocument: aws.String(allowAll), SetAsDefault: i == 5}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreatePolicyVersion(ctx(t), &iam.CreatePolicyVersionInput{PolicyArn: &arn, PolicyDocument: aws.String(allowAll)}); errorCode(err) != "LimitExceeded" {
		t.Fatalf("sixth version: %v", err)
	}
	if _, err := c.DeletePolicyVersion(ctx(t), &iam.DeletePolicyVersionInput{PolicyArn: &arn, VersionId: aws.String("v5")}); errorCode(err) != "DeleteConflict" {
		t.Fatalf("delete default: %v", err)
	}
	if _, err := c.SetDefaultPolicyVersion(ctx(t), &iam.SetDefaultPolicyVersionInput{PolicyArn: &arn, VersionId: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	gv, err := c.GetPolicyVersion(ctx(t), &iam.GetPolicyVersionInput{PolicyArn: &arn, VersionId: aws.String("v1")})
	if err != nil || !gv.PolicyVersion.IsDefaultVersion {
		t.Fatalf("get version: %+v %v", gv, err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(gv.PolicyVersion.Document)); doc != allowAll {
		t.Fatalf("document = %q", aws.ToString(gv.PolicyVersion.Document))
	}
	lv, err := c.ListPolicyVersions(ctx(t), &iam.ListPolicyVersionsInput{PolicyArn: &arn, MaxItems: aws.Int32(2)})
	if err != nil || len(lv.Versions) != 2 || !lv.IsTruncated || aws.ToString(lv.Versions[0].VersionId) != "v5" {
		t.Fatalf("list versions: %+v %v", lv, err)
	}
	if _, err := c.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::111111111111:policy/nope")}); errorCode(err) != "NoSuchEntity" {
		t.Fatalf("missing policy: %v", err)
	}
	if _, err := c.DeletePolicy(ctx(t), &iam.DeletePolicyInput{PolicyArn: &arn}); errorCode(err) != "DeleteConflict" {
		t.Fatalf("delete with versions: %v", err)
	}
	for _, v := range []string{"v2", "v3", "v4", "v5"} {
		if _, err := c.DeletePolicyVersion(ctx(t), &iam.DeletePolicyVersionInput{PolicyArn: &arn, VersionId: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeletePolicy(ctx(t), &iam.DeletePolicyInput{PolicyArn: &arn}); err != nil {
		t.Fatal(err)
	}
}

func TestIAMRolesUsersPaging(t *testing.T) {
	s, u := newTestSim(t, Options{})
	var roles []Role
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		roles = append(roles, Role{Name: "role-" + n})
	}
	err := s.AddIAM(testAccount, Resources{
		Policies: []Policy{{Name: "p1", Document: allowAll}},
		Roles:    roles,
		Users:    []User{{Name: "alice", AccessKeys: []AccessKey{{ID: "AKIAALICE000000000001", Secret: "s"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := iam.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	var names []string
	p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Roles {
			names = append(names, aws.ToString(r.RoleName))
		}
	}
	if len(names) != 5 || pages != 3 {
		t.Fatalf("roles %v in %d pages", names, pages)
	}
	pol := "arn:aws:iam::" + testAccount + ":policy/p1"
	if _, err := c.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("role-a"), PolicyArn: &pol}); err != nil {
		t.Fatal(err)
	}
	ar, err := c.ListAttachedRolePolicies(ctx(t), &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("role-a")})
	if err != nil || len(ar.AttachedPolicies) != 1 || aws.ToString(ar.AttachedPolicies[0].PolicyName) != "p1" {
		t.Fatalf("attached: %+v %v", ar, err)
	}
	if _, err := c.DetachRolePolicy(ctx(t), &iam.DetachRolePolicyInput{RoleName: aws.String("role-b"), PolicyArn: &pol}); errorCode(err) != "NoSuchEntity" {
		t.Fatalf("detach not attached: %v", err)
	}
	if _, err := c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("ghost")}); errorCode(err) != "NoSuchEntity" {
		t.Fatalf("missing role: %v", err)
	}
	if _, err := c.TagRole(ctx(t), &iam.TagRoleInput{RoleName: aws.String("role-a"), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	rt, err := c.ListRoleTags(ctx(t), &iam.ListRoleTagsInput{RoleName: aws.String("role-a")})
	if err != nil || len(rt.Tags) != 1 {
		t.Fatalf("role tags: %+v %v", rt, err)
	}
	// The user's key works until it is deactivated.
	alice := sts.NewFromConfig(sdkConfig(u, testRegion, "AKIAALICE000000000001", "s", ""))
	id, err := alice.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::"+testAccount+":user/alice" {
		t.Fatalf("alice: %+v %v", id, err)
	}
	if _, err := c.UpdateAccessKey(ctx(t), &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIAALICE000000000001"), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}); errorCode(err) != "InvalidClientTokenId" {
		t.Fatalf("deactivated key: %v", err)
	}
	keys, err := c.ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != iamtypes.StatusTypeInactive {
		t.Fatalf("keys: %+v %v", keys, err)
	}
	if _, err := c.TagUser(ctx(t), &iam.TagUserInput{UserName: aws.String("alice"), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	ut, err := c.ListUserTags(ctx(t), &iam.ListUserTagsInput{UserName: aws.String("alice")})
	if err != nil || len(ut.Tags) != 1 {
		t.Fatalf("user tags: %+v %v", ut, err)
	}
	users, err := c.ListUsers(ctx(t), &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 1 {
		t.Fatalf("users: %+v %v", users, err)
	}
}
