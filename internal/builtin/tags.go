package builtin

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"

	"github.com/stewardhq/steward/internal/asl"
	"github.com/stewardhq/steward/internal/cloud"
	"github.com/stewardhq/steward/internal/task"
)

// TagsOf reads a resource's tags as an AWS API gives them: a list of
// {"Key", "Value"} objects (EC2, IAM, RDS, S3's TagSet; key names in any
// case), CloudFront's {"Items": [...]}, or a plain map. Null is no tags.
func TagsOf(v any) (map[string]string, error) {
	out := map[string]string{}
	switch x := v.(type) {
	case nil:
		return out, nil
	case []any:
		for i, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("tag %d is %s, not a {Key, Value} object", i, kindOf(e))
			}
			var k, val any
			for f, fv := range m {
				switch strings.ToLower(f) {
				case "key":
					k = fv
				case "value":
					val = fv
				}
			}
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("tag %d has no string Key", i)
			}
			vs, err := scalar(val)
			if err != nil {
				return nil, fmt.Errorf("tag %q: %w", ks, err)
			}
			out[ks] = vs
		}
		return out, nil
	case map[string]any:
		if items, ok := x["Items"]; ok && len(x) <= 2 {
			if _, isList := items.([]any); isList || items == nil {
				return TagsOf(items) // CloudFront's Tags: {"Items": [...]}
			}
		}
		for k, fv := range x {
			vs, err := scalar(fv)
			if err != nil {
				return nil, fmt.Errorf("tag %q: %w", k, err)
			}
			out[k] = vs
		}
		return out, nil
	}
	return nil, fmt.Errorf("tags are %s, not a list of {Key, Value} or an object", kindOf(v))
}

// scalar renders a tag value: strings as they are, numbers and booleans
// as JSON writes them, null as "".
func scalar(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("value is %s, not a string", kindOf(v))
}

// Key returns the full key of one of steward's tags: name with the
// prefix. A name already carrying the prefix is kept. A name with another
// prefix (any ':') or AWS's is refused: steward writes only its own keys.
func (t *Tasks) Key(name string) (string, error) {
	p := t.d.TagPrefix
	if strings.HasPrefix(name, p) && len(name) > len(p) {
		return name, checkKey(name)
	}
	if strings.HasPrefix(strings.ToLower(name), "aws:") {
		return "", fmt.Errorf("tag key %q: keys starting with aws: belong to AWS", name)
	}
	if name == "" || strings.Contains(name, ":") {
		return "", fmt.Errorf("tag key %q: steward writes only its own keys (%s<name>), and this one carries another prefix", name, p)
	}
	return p + name, checkKey(p + name)
}

func checkKey(k string) error {
	if n := utf8.RuneCountInString(k); n > 128 {
		return fmt.Errorf("tag key %q is %d characters long; AWS allows 128", k, n)
	}
	return nil
}

func checkValue(k, v string) error {
	if n := utf8.RuneCountInString(v); n > 256 {
		return fmt.Errorf("tag %q: the value is %d characters long; AWS allows 256", k, n)
	}
	return nil
}

// TagResource writes tags (full keys, each carrying the prefix) on the
// resource through the Resource Groups Tagging API in its account and
// region. Other tags are left as they are.
func (t *Tasks) TagResource(ctx context.Context, w Where, tags map[string]string) error {
	for k, v := range tags {
		if !strings.HasPrefix(k, t.d.TagPrefix) {
			return fmt.Errorf("tag %s on %s: %q is not one of steward's keys", k, w.ARN, k)
		}
		if err := checkValue(k, v); err != nil {
			return err
		}
	}
	cl, err := t.tagging(ctx, w)
	if err != nil {
		return err
	}
	out, err := cl.TagResources(ctx, &resourcegroupstaggingapi.TagResourcesInput{ResourceARNList: []string{w.ARN}, Tags: tags})
	if err != nil {
		return awsError("ResourceGroupsTaggingApi", "TagResources", w, err)
	}
	return failedTagging("TagResources", w, out.FailedResourcesMap)
}

// UntagResource removes tags (full keys, each carrying the prefix).
func (t *Tasks) UntagResource(ctx context.Context, w Where, keys []string) error {
	for _, k := range keys {
		if !strings.HasPrefix(k, t.d.TagPrefix) {
			return fmt.Errorf("untag %s on %s: %q is not one of steward's keys", k, w.ARN, k)
		}
	}
	cl, err := t.tagging(ctx, w)
	if err != nil {
		return err
	}
	out, err := cl.UntagResources(ctx, &resourcegroupstaggingapi.UntagResourcesInput{ResourceARNList: []string{w.ARN}, TagKeys: keys})
	if err != nil {
		return awsError("ResourceGroupsTaggingApi", "UntagResources", w, err)
	}
	return failedTagging("UntagResources", w, out.FailedResourcesMap)
}

func (t *Tasks) tagging(ctx context.Context, w Where) (*resourcegroupstaggingapi.Client, error) {
	if t.d.Cloud == nil {
		return nil, fmt.Errorf("tag %s: steward has no AWS access configured", w.ARN)
	}
	cl, err := cloud.ClientFor[*resourcegroupstaggingapi.Client](ctx, t.d.Cloud, "resourcegroupstaggingapi", w.Account, w.Region)
	if err != nil {
		return nil, fmt.Errorf("tagging in account %s region %s for %s: %w", w.Account, w.Region, w.ARN, err)
	}
	return cl, nil
}

// failedTagging turns the tagging API's per-resource failures (it answers
// 200 and lists them) into an error named for the tagging API.
func failedTagging(action string, w Where, failed map[string]types.FailureInfo) error {
	for arn, f := range failed {
		code := string(f.ErrorCode)
		msg := ""
		if f.ErrorMessage != nil {
			msg = *f.ErrorMessage
		}
		where := fmt.Sprintf("resourcegroupstaggingapi:%s in account %s region %s for %s", action, w.Account, w.Region, arn)
		name := asl.ErrTaskFailed
		if code != "" {
			name = cloud.ErrorName("ResourceGroupsTaggingApi", code)
		}
		return &asl.Error{Name: name, Cause: where + ": " + msg}
	}
	return nil
}

// Tag serves steward:tag: {"Resource": ARN, "Tags": {"last-seen": "..."}}
// → {"Tags": {"steward:last-seen": "..."}} (plus "Planned": true in a dry
// run, where nothing is written).
func (t *Tasks) Tag(ctx context.Context, call *task.Call) (any, error) {
	in, err := inputOf(ResourceTag, call)
	if err != nil {
		return nil, err
	}
	res, err := in.required(ResourceTag, "Resource")
	if err != nil {
		return nil, err
	}
	raw, err := TagsOf(in["Tags"])
	if err != nil {
		return nil, invalid("%s on %s: Tags: %v", ResourceTag, res, err)
	}
	if len(raw) == 0 {
		return nil, invalid("%s on %s: Tags is empty", ResourceTag, res)
	}
	tags := make(map[string]string, len(raw))
	for k, v := range raw {
		full, err := t.Key(k)
		if err != nil {
			return nil, invalid("%s on %s: %v", ResourceTag, res, err)
		}
		if err := checkValue(full, v); err != nil {
			return nil, invalid("%s on %s: %v", ResourceTag, res, err)
		}
		tags[full] = v
	}
	w, err := Locate(res, call.ExecutionInput)
	if err != nil {
		return nil, invalid("%s: %v", ResourceTag, err)
	}
	out := map[string]any{"Tags": stringMap(tags)}
	if dryRun(call) {
		out["Planned"] = true
		return out, nil
	}
	if err := t.TagResource(ctx, w, tags); err != nil {
		return nil, taskError(ResourceTag, err)
	}
	return out, nil
}

// Untag serves steward:untag: {"Resource": ARN, "Keys": ["last-seen"]} →
// {"Keys": ["steward:last-seen"]}.
func (t *Tasks) Untag(ctx context.Context, call *task.Call) (any, error) {
	in, err := inputOf(ResourceUntag, call)
	if err != nil {
		return nil, err
	}
	res, err := in.required(ResourceUntag, "Resource")
	if err != nil {
		return nil, err
	}
	names, err := in.strings(ResourceUntag, "Keys")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, invalid("%s on %s: Keys is empty", ResourceUntag, res)
	}
	keys := make([]string, 0, len(names))
	for _, n := range names {
		full, err := t.Key(n)
		if err != nil {
			return nil, invalid("%s on %s: %v", ResourceUntag, res, err)
		}
		keys = append(keys, full)
	}
	sort.Strings(keys)
	w, err := Locate(res, call.ExecutionInput)
	if err != nil {
		return nil, invalid("%s: %v", ResourceUntag, err)
	}
	list := make([]any, len(keys))
	for i, k := range keys {
		list[i] = k
	}
	out := map[string]any{"Keys": list}
	if dryRun(call) {
		out["Planned"] = true
		return out, nil
	}
	if err := t.UntagResource(ctx, w, keys); err != nil {
		return nil, taskError(ResourceUntag, err)
	}
	return out, nil
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
