package awssim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

func TestRoute53(t *testing.T) {
	sim, url := newTestSim(t, Options{})
	c := route53.NewFromConfig(sdkConfig(url, testRegion, testKey, "secret", ""))
	var ids []string
	for i := 0; i < 3; i++ {
		out, err := c.CreateHostedZone(ctx(t), &route53.CreateHostedZoneInput{Name: aws.String(fmt.Sprintf("z%d.example.com", i)), CallerReference: aws.String(fmt.Sprint("ref", i))})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(*out.HostedZone.Id, "/hostedzone/Z") || *out.HostedZone.Name != fmt.Sprintf("z%d.example.com.", i) || len(out.DelegationSet.NameServers) != 4 {
			t.Fatalf("CreateHostedZone = %+v", out.HostedZone)
		}
		ids = append(ids, *out.HostedZone.Id)
	}
	_, err := c.CreateHostedZone(ctx(t), &route53.CreateHostedZoneInput{Name: aws.String("dup.example.com"), CallerReference: aws.String("ref0")})
	wantAPIError(t, err, "HostedZoneAlreadyExists", 409)

	// Marker paging.
	p := route53.NewListHostedZonesPaginator(c, &route53.ListHostedZonesInput{MaxItems: aws.Int32(2)})
	n, pages := 0, 0
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		n += len(pg.HostedZones)
		pages++
	}
	if n != 3 || pages != 2 {
		t.Fatalf("ListHostedZones paged %d zones in %d pages", n, pages)
	}
	zone := ids[0]
	gz, err := c.GetHostedZone(ctx(t), &route53.GetHostedZoneInput{Id: aws.String(zone)})
	if err != nil || aws.ToInt64(gz.HostedZone.ResourceRecordSetCount) != 2 {
		t.Fatalf("GetHostedZone = %+v, %v", gz, err)
	}
	_, err = c.GetHostedZone(ctx(t), &route53.GetHostedZoneInput{Id: aws.String("ZNOPE")})
	wantAPIError(t, err, "NoSuchHostedZone", 404)

	change := func(action r53types.ChangeAction, rr r53types.ResourceRecordSet) error {
		_, err := c.ChangeResourceRecordSets(ctx(t), &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone),
			ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: action, ResourceRecordSet: &rr}}}})
		return err
	}
	a := func(name, ip string) r53types.ResourceRecordSet {
		return r53types.ResourceRecordSet{Name: aws.String(name), Type: r53types.RRTypeA, TTL: aws.Int64(300),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(ip)}}}
	}
	for i := 0; i < 5; i++ {
		if err := change(r53types.ChangeActionCreate, a(fmt.Sprintf("h%d.z0.example.com", i), "10.0.0.1")); err != nil {
			t.Fatal(err)
		}
	}
	alias := r53types.ResourceRecordSet{Name: aws.String("www.z0.example.com"), Type: r53types.RRTypeA,
		AliasTarget: &r53types.AliasTarget{HostedZoneId: aws.String("Z35SXDOTRQ7X7K"), DNSName: aws.String("web-123.us-east-1.elb.amazonaws.com"), EvaluateTargetHealth: true}}
	if err := change(r53types.ChangeActionUpsert, alias); err != nil {
		t.Fatal(err)
	}
	err = change(r53types.ChangeActionCreate, a("h1.z0.example.com", "10.0.0.1"))
	wantAPIError(t, err, "InvalidChangeBatch", 400)
	err = change(r53types.ChangeActionDelete, a("h1.z0.example.com", "10.9.9.9"))
	wantAPIError(t, err, "InvalidChangeBatch", 400)
	if !strings.Contains(err.Error(), "Tried to delete resource record set [name='h1.z0.example.com.', type='A'] but the values provided do not match the current values") {
		t.Fatalf("mismatch message: %v", err)
	}
	err = change(r53types.ChangeActionDelete, a("gone.z0.example.com", "10.0.0.1"))
	if !strings.Contains(fmt.Sprint(err), "Tried to delete resource record set [name='gone.z0.example.com.', type='A'] but it was not found") {
		t.Fatalf("not found message: %v", err)
	}
	// StartRecordName paging visits every record once, in Route 53's order.
	rp := route53.NewListResourceRecordSetsPaginator(c, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), MaxItems: aws.Int32(3)})
	var names []string
	for rp.HasMorePages() {
		pg, err := rp.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, rr := range pg.ResourceRecordSets {
			names = append(names, string(rr.Type)+" "+*rr.Name)
			if *rr.Name == "www.z0.example.com." && (rr.AliasTarget == nil || *rr.AliasTarget.DNSName != "web-123.us-east-1.elb.amazonaws.com.") {
				t.Fatalf("alias record = %+v", rr)
			}
		}
	}
	want := "NS z0.example.com.,SOA z0.example.com.,A h0.z0.example.com.,A h1.z0.example.com.,A h2.z0.example.com.,A h3.z0.example.com.,A h4.z0.example.com.,A www.z0.example.com."
	if strings.Join(names, ",") != want {
		t.Fatalf("records = %v", names)
	}
	_, err = c.DeleteHostedZone(ctx(t), &route53.DeleteHostedZoneInput{Id: aws.String(zone)})
	wantAPIError(t, err, "HostedZoneNotEmpty", 400)
	if err := change(r53types.ChangeActionDelete, alias); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := change(r53types.ChangeActionDelete, a(fmt.Sprintf("h%d.z0.example.com", i), "10.0.0.1")); err != nil {
			t.Fatal(err)
		}
	}
	del, err := c.DeleteHostedZone(ctx(t), &route53.DeleteHostedZoneInput{Id: aws.String(zone)})
	if err != nil {
		t.Fatal(err)
	}
	gc, err := c.GetChange(ctx(t), &route53.GetChangeInput{Id: del.ChangeInfo.Id})
	if err != nil || gc.ChangeInfo.Status != r53types.ChangeStatusInsync {
		t.Fatalf("GetChange = %+v, %v", gc, err)
	}
	_, err = c.GetChange(ctx(t), &route53.GetChangeInput{Id: aws.String("CNOPE")})
	wantAPIError(t, err, "NoSuchChange", 404)

	if err := sim.AddHostedZones(testAccount, HostedZone{Name: "tagged.example.com", Tags: Tags{{Key: "env", Value: "prod"}}}); err != nil {
		t.Fatal(err)
	}
	zs := sim.HostedZones(testAccount)
	var tagged string
	for _, z := range zs {
		if z.Name == "tagged.example.com." {
			tagged = z.ID
		}
	}
	lt, err := c.ListTagsForResource(ctx(t), &route53.ListTagsForResourceInput{ResourceType: r53types.TagResourceTypeHostedzone, ResourceId: aws.String(tagged)})
	if err != nil || len(lt.ResourceTagSet.Tags) != 1 || *lt.ResourceTagSet.Tags[0].Value != "prod" {
		t.Fatalf("ListTagsForResource = %+v, %v", lt, err)
	}
}
