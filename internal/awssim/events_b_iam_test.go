package awssim

import (
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestInstanceProfilesAndRolePolicies(t *testing.T) {
	s, u := newTestSim(t, Options{})
	c := iam.NewFromConfig(sdkConfig(u, testRegion, testKey, "secret", ""))
	if _, err := c.GetInstanceProfile(ctx(t), &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")}); errorCode(err) != "NoSuchEntity" {
		t.Fatalf("before the profile exists: %v", err)
	}
	if _, err := c.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("web-role"), AssumeRolePolicyDocument: aws.String(allowAll)}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddInstanceProfile(testAccount, InstanceProfile{Name: "web", Roles: []string{"web-role"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddInstanceProfile(testAccount, InstanceProfile{Name: "two", Roles: []string{"a", "b"}}); err == nil {
		t.Fatal("two roles in one profile were accepted")
	}
	gp, err := c.GetInstanceProfile(ctx(t), &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	ip := gp.InstanceProfile
	if aws.ToString(ip.Arn) != "arn:aws:iam::"+testAccount+":instance-profile/web" || len(ip.Roles) != 1 || aws.ToString(ip.Roles[0].RoleName) != "web-role" || ip.CreateDate == nil {
		t.Fatalf("profile: %+v", ip)
	}
	if _, err := c.GetInstanceProfile(ctx(t), &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("nope")}); errorCode(err) != "NoSuchEntity" {
		t.Fatalf("unknown profile: %v", err)
	}
	lp, err := c.ListInstanceProfilesForRole(ctx(t), &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("web-role")})
	if err != nil || len(lp.InstanceProfiles) != 1 || aws.ToString(lp.InstanceProfiles[0].InstanceProfileName) != "web" {
		t.Fatalf("profiles for role: %+v %v", lp, err)
	}

	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
	if _, err := c.PutRolePolicy(ctx(t), &iam.PutRolePolicyInput{RoleName: aws.String("web-role"), PolicyName: aws.String("q"), PolicyDocument: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	gr, err := c.GetRolePolicy(ctx(t), &iam.GetRolePolicyInput{RoleName: aws.String("web-role"), PolicyName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(gr.PolicyDocument)); doc != deny {
		t.Fatalf("document %q", aws.ToString(gr.PolicyDocument))
	}
	lr, err := c.ListRolePolicies(ctx(t), &iam.ListRolePoliciesInput{RoleName: aws.String("web-role")})
	if err != nil || len(lr.PolicyNames) != 1 || lr.PolicyNames[0] != "q" {
		t.Fatalf("list: %+v %v", lr, err)
	}
	if _, err := c.DeleteRolePolicy(ctx(t), &iam.DeleteRolePolicyInput{RoleName: aws.String("web-role"), PolicyName: aws.String("q")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRolePolicy(ctx(t), &iam.DeleteRolePolicyInput{RoleName: aws.String("web-role"), PolicyName: aws.String("q")}); errorCode(err) != "NoSuchEntity" {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := c.GetRolePolicy(ctx(t), &iam.GetRolePolicyInput{RoleName: aws.String("nope"), PolicyName: aws.String("q")}); errorCode(err) != "NoSuchEntity" {
		t.Fatalf("unknown role: %v", err)
	}
	// The IAM actions that were there before still answer.
	if _, err := c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("web-role")}); err != nil {
		t.Fatal(err)
	}
}

// FuzzExtendedIAM calls the actions ExtendIAM adds with arbitrary
// parameters: errors are fine, panics are not.
func FuzzExtendedIAM(f *testing.F) {
	f.Add("GetInstanceProfile", "InstanceProfileName", "web")
	f.Add("ListInstanceProfilesForRole", "RoleName", "web-role")
	f.Add("GetRolePolicy", "RoleName", "web-role")
	f.Add("DeleteRolePolicy", "PolicyName", "q")
	f.Add("ListRolePolicies", "RoleName", "")
	s := New(Options{})
	if err := s.AddAccount(AccountInfo{ID: testAccount}); err != nil {
		f.Fatal(err)
	}
	if err := s.AddIAM(testAccount, Resources{Roles: []Role{{Name: "web-role", AssumeRolePolicyDocument: allowAll, InlinePolicies: map[string]string{"q": allowAll}}}}); err != nil {
		f.Fatal(err)
	}
	if err := s.AddInstanceProfile(testAccount, InstanceProfile{Name: "web", Roles: []string{"web-role"}}); err != nil {
		f.Fatal(err)
	}
	q := s.services["iam"].(*iamExtended)
	f.Fuzz(func(t *testing.T, action, key, value string) {
		h := q.actions[action]
		if h == nil {
			return
		}
		p := params{"RoleName": "web-role", "PolicyName": "q", "InstanceProfileName": "web"}
		p[key] = value
		_, _ = h(&Request{Account: testAccount}, p)
	})
}
