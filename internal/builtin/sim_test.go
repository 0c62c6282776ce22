package builtin

import "github.com/stewardhq/steward/internal/awssim"

func awssimSnapshot(id string) awssim.Resources {
	return awssim.Resources{Snapshots: []awssim.Snapshot{{ID: id, VolumeID: "vol-1", State: "completed", Tags: awssim.Tags{{Key: "Name", Value: "snap"}}}}}
}

func awssimBucket(name string) awssim.Bucket {
	return awssim.Bucket{Name: name, Region: region, Tags: awssim.Tags{{Key: "Name", Value: "logs"}}}
}

func jsonNum(s string) any { return jsonNumber(s) }

func awssimVolume(id string) awssim.Resources {
	return awssim.Resources{Volumes: []awssim.Volume{{ID: id, Size: 8, State: "available", AvailabilityZone: "us-east-1a"}}}
}
