package builtin

import (
	"context"
	"time"

	"github.com/stewardhq/steward/internal/task"
)

// TagLastSeen is the name of the last-seen tag (after the prefix).
const TagLastSeen = "last-seen"

// ParseTime reads a time steward wrote in a tag: RFC 3339, or a date
// (YYYY-MM-DD, midnight UTC).
func ParseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// LastSeen serves steward:last-seen: {"Resource": ARN, "Tags": <the
// resource's tags>, "InUse": bool, "EventNames": [...], "ResourceName":
// "vol-123"} → {"LastSeen": RFC3339, "Days": whole days since, "FirstSight":
// bool}.
//
// The <prefix>last-seen tag holds when the resource was last seen in use.
// On first sight (no tag, or one steward cannot read) it is set to now. A
// resource in use now is seen now. Otherwise CloudTrail is asked for the
// events named in EventNames on ResourceName since the tag's time; the
// newest moves last-seen to its time. The tag is written whenever it
// moves, except in a dry run.
func (t *Tasks) LastSeen(ctx context.Context, call *task.Call) (any, error) {
	const name = ResourceLastSeen
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
	inUse, err := in.boolean(name, "InUse")
	if err != nil {
		return nil, err
	}
	events, err := in.strings(name, "EventNames")
	if err != nil {
		return nil, err
	}
	resName, err := in.str(name, "ResourceName")
	if err != nil {
		return nil, err
	}
	w, err := Locate(res, call.ExecutionInput)
	if err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	if resName == "" {
		resName = w.Name
	}
	key, _ := t.Key(TagLastSeen)
	now := t.d.Clock.Now().UTC().Truncate(time.Second)

	seen, ok := ParseTime(tags[key])
	first := !ok
	moved := false
	switch {
	case first || inUse:
		seen, moved = now, true
	case len(events) > 0 && resName != "":
		evs, err := t.lookupEvents(ctx, w, resName, events, seen.Add(time.Second))
		if err != nil {
			return nil, taskError(name, err)
		}
		for _, e := range evs {
			if e.Time.After(seen) && !e.Time.After(now) {
				seen, moved = e.Time.Truncate(time.Second), true
			}
		}
	}
	if seen.After(now) {
		seen = now // a tag from the future counts from now
	}
	if moved && !dryRun(call) {
		if err := t.TagResource(ctx, w, map[string]string{key: rfc3339(seen)}); err != nil {
			return nil, taskError(name, err)
		}
	}
	days := int(now.Sub(seen) / (24 * time.Hour))
	return map[string]any{"LastSeen": rfc3339(seen), "Days": days, "FirstSight": first}, nil
}
