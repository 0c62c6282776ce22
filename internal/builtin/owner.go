package builtin

import (
	"context"
	"strings"

	"github.com/stewardhq/steward/internal/task"
)

// TagOwner is the name of the owner tag (after the prefix).
const TagOwner = "owner"

// userOwnerKeys are the users' own tags that name an owner, in order.
var userOwnerKeys = []string{"owner", "Owner", "created-by"}

// Owner serves steward:owner: {"Resource": ARN, "Tags": <tags>,
// "ResourceName": "i-123", "EventNames": ["RunInstances"]} → {"Owner",
// "Source": "tag"|"cloudtrail"|"unknown"}.
//
// The <prefix>owner tag answers first; then the users' owner, Owner or
// created-by tag; then the creator CloudTrail recorded: the oldest of the
// resource's events named in EventNames made by a person (see
// Identity.Owner). An owner found in a user tag or CloudTrail is written to
// <prefix>owner (except in a dry run), so later runs need not look again.
func (t *Tasks) Owner(ctx context.Context, call *task.Call) (any, error) {
	const name = ResourceOwner
	in, err := inputOf(name, call)
	if err != nil {
		return nil, err
	}
	res, err := in.required(name, "Resource")
	if err != nil {
		return nil, err
	}
	tags, err := TagsOf(in["Tags"])
	if err != nil {
		return nil, invalid("%s on %s: Tags: %v", name, res, err)
	}
	events, err := in.strings(name, "EventNames")
	if err != nil {
		return nil, err
	}
	resName, err := in.str(name, "ResourceName")
	if err != nil {
		return nil, err
	}
	key, _ := t.Key(TagOwner)
	if v := strings.TrimSpace(tags[key]); v != "" {
		return map[string]any{"Owner": v, "Source": "tag"}, nil
	}
	w, err := Locate(res, call.ExecutionInput)
	if err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	owner, source := "", ""
	for _, k := range userOwnerKeys {
		if v := strings.TrimSpace(tags[k]); v != "" {
			owner, source = v, "tag"
			break
		}
	}
	out := map[string]any{}
	if owner == "" {
		if resName == "" {
			resName = w.Name
		}
		evs, err := t.lookupEvents(ctx, w, resName, events, t.d.Clock.Now().AddDate(0, 0, -90))
		if err != nil {
			return nil, taskError(name, err)
		}
		// Newest first: the last person in the list is the creator.
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].IdentityErr != nil {
				continue
			}
			o, person := evs[i].Identity.Owner()
			if person {
				owner, source = o, "cloudtrail"
				out["Event"] = evs[i].Name
				out["EventTime"] = rfc3339(evs[i].Time)
				break
			}
			if o != "" && out["CreatedBy"] == nil {
				out["CreatedBy"] = o // a service; kept as a hint
			}
		}
	}
	if owner == "" {
		out["Owner"], out["Source"] = "", "unknown"
		return out, nil
	}
	if err := checkValue(key, owner); err == nil && !dryRun(call) {
		if err := t.TagResource(ctx, w, map[string]string{key: owner}); err != nil {
			return nil, taskError(name, err)
		}
	}
	out["Owner"], out["Source"] = owner, source
	return out, nil
}
