package awssim

import "time"

// Volume is an EBS volume.
type Volume struct {
	ID               string             `yaml:"id"`
	Size             int                `yaml:"size"`
	State            string             `yaml:"state"` // creating|available|in-use|deleting|deleted|error
	VolumeType       string             `yaml:"type"`
	Iops             int                `yaml:"iops"`
	Throughput       int                `yaml:"throughput"` // MiB/s, gp3 only
	Encrypted        bool               `yaml:"encrypted"`
	SnapshotID       string             `yaml:"snapshot_id"`
	AvailabilityZone string             `yaml:"availability_zone"`
	CreateTime       time.Time          `yaml:"create_time"`
	Attachments      []VolumeAttachment `yaml:"attachments"`
	Tags             Tags               `yaml:"tags"`
}

// VolumeAttachment attaches a volume to an instance.
type VolumeAttachment struct {
	InstanceID          string    `yaml:"instance_id"`
	Device              string    `yaml:"device"`
	State               string    `yaml:"state"` // attaching|attached|detaching
	AttachTime          time.Time `yaml:"attach_time"`
	DeleteOnTermination bool      `yaml:"delete_on_termination"`
}

// Snapshot is an EBS snapshot.
type Snapshot struct {
	ID          string    `yaml:"id"`
	VolumeID    string    `yaml:"volume_id"`
	VolumeSize  int       `yaml:"volume_size"`
	State       string    `yaml:"state"` // pending|completed|error
	Progress    string    `yaml:"progress"`
	Description string    `yaml:"description"`
	StartTime   time.Time `yaml:"start_time"`
	Encrypted   bool      `yaml:"encrypted"`
	StorageTier string    `yaml:"storage_tier"`
	Tags        Tags      `yaml:"tags"`
}

// Instance is an EC2 instance.
type Instance struct {
	ID                    string    `yaml:"id"`
	ImageID               string    `yaml:"image_id"`
	InstanceType          string    `yaml:"type"`
	State                 string    `yaml:"state"` // pending|running|stopping|stopped|shutting-down|terminated
	StateTransitionReason string    `yaml:"state_transition_reason"`
	LaunchTime            time.Time `yaml:"launch_time"`
	KeyName               string    `yaml:"key_name"`
	AvailabilityZone      string    `yaml:"availability_zone"`
	VpcID                 string    `yaml:"vpc_id"`
	SubnetID              string    `yaml:"subnet_id"`
	PrivateIP             string    `yaml:"private_ip"`
	PublicIP              string    `yaml:"public_ip"`
	Architecture          string    `yaml:"architecture"`
	Platform              string    `yaml:"platform"`
	Monitoring            string    `yaml:"monitoring"` // disabled|enabled
	IAMInstanceProfileARN string    `yaml:"iam_instance_profile_arn"`
	// HTTPTokens is the IMDS setting: "optional" (IMDSv1 allowed) or "required".
	HTTPTokens        string   `yaml:"http_tokens"`
	HTTPEndpoint      string   `yaml:"http_endpoint"`
	HTTPHopLimit      int      `yaml:"http_put_response_hop_limit"`
	MetadataTags      string   `yaml:"instance_metadata_tags"`
	SecurityGroupIDs  []string `yaml:"security_groups"`
	RootDeviceName    string   `yaml:"root_device_name"`
	ReservationID     string   `yaml:"reservation_id"`
	Tags              Tags     `yaml:"tags"`
	metadataSettledAt time.Time
}

// SecurityGroup is a VPC security group.
type SecurityGroup struct {
	ID          string              `yaml:"id"`
	Name        string              `yaml:"name"`
	Description string              `yaml:"description"`
	VpcID       string              `yaml:"vpc_id"`
	Ingress     []SecurityGroupRule `yaml:"ingress"`
	Egress      []SecurityGroupRule `yaml:"egress"`
	Tags        Tags                `yaml:"tags"`
}

// SecurityGroupRule is one rule with one source or destination, as AWS
// stores rules (an IpPermission with two CIDRs is two rules).
type SecurityGroupRule struct {
	ID          string `yaml:"id"`
	Protocol    string `yaml:"protocol"` // "tcp", "udp", "icmp", "-1"
	FromPort    int    `yaml:"from_port"`
	ToPort      int    `yaml:"to_port"`
	CidrIPv4    string `yaml:"cidr"`
	CidrIPv6    string `yaml:"cidr_ipv6"`
	GroupID     string `yaml:"group_id"` // referenced security group
	PrefixList  string `yaml:"prefix_list_id"`
	Description string `yaml:"description"`
}

// Address is an Elastic IP address.
type Address struct {
	AllocationID       string `yaml:"allocation_id"`
	PublicIP           string `yaml:"public_ip"`
	Domain             string `yaml:"domain"`
	AssociationID      string `yaml:"association_id"`
	InstanceID         string `yaml:"instance_id"`
	NetworkInterfaceID string `yaml:"network_interface_id"`
	PrivateIP          string `yaml:"private_ip"`
	Tags               Tags   `yaml:"tags"`
}

// InternetGateway is a VPC internet gateway.
type InternetGateway struct {
	ID    string `yaml:"id"`
	VpcID string `yaml:"vpc_id"` // attached VPC, empty when detached
	Tags  Tags   `yaml:"tags"`
}

// LoadBalancer is an ELBv2 load balancer.
type LoadBalancer struct {
	ARN               string    `yaml:"arn"`
	Name              string    `yaml:"name"`
	Type              string    `yaml:"type"`   // application|network|gateway
	Scheme            string    `yaml:"scheme"` // internet-facing|internal
	State             string    `yaml:"state"`
	VpcID             string    `yaml:"vpc_id"`
	DNSName           string    `yaml:"dns_name"`
	CreatedTime       time.Time `yaml:"created_time"`
	AvailabilityZones []string  `yaml:"availability_zones"`
	SecurityGroups    []string  `yaml:"security_groups"`
	Tags              Tags      `yaml:"tags"`
}

// TargetGroup is an ELBv2 target group.
type TargetGroup struct {
	ARN              string   `yaml:"arn"`
	Name             string   `yaml:"name"`
	Protocol         string   `yaml:"protocol"`
	Port             int      `yaml:"port"`
	VpcID            string   `yaml:"vpc_id"`
	TargetType       string   `yaml:"target_type"`
	LoadBalancerARNs []string `yaml:"load_balancer_arns"`
	Targets          []Target `yaml:"targets"`
	Tags             Tags     `yaml:"tags"`
}

// Target is one registered target and its health.
type Target struct {
	ID     string `yaml:"id"`
	Port   int    `yaml:"port"`
	Health string `yaml:"health"` // healthy|unhealthy|unused|initial|draining
}

// DBInstance is an RDS database instance.
type DBInstance struct {
	ID                 string    `yaml:"id"`
	Class              string    `yaml:"class"`
	Engine             string    `yaml:"engine"`
	EngineVersion      string    `yaml:"engine_version"`
	Status             string    `yaml:"status"`
	AllocatedStorage   int       `yaml:"allocated_storage"`
	StorageType        string    `yaml:"storage_type"`
	MasterUsername     string    `yaml:"master_username"`
	DBName             string    `yaml:"db_name"`
	AvailabilityZone   string    `yaml:"availability_zone"`
	MultiAZ            bool      `yaml:"multi_az"`
	PubliclyAccessible bool      `yaml:"publicly_accessible"`
	StorageEncrypted   bool      `yaml:"storage_encrypted"`
	CreateTime         time.Time `yaml:"create_time"`
	Port               int       `yaml:"port"`
	// LogExports are the CloudWatch Logs exports (EnabledCloudwatchLogsExports).
	LogExports []string `yaml:"log_exports"`
	Tags       Tags     `yaml:"tags"`
}

// DBSnapshot is an RDS DB snapshot.
type DBSnapshot struct {
	ID               string    `yaml:"id"`
	DBInstanceID     string    `yaml:"db_instance_id"`
	Status           string    `yaml:"status"`
	SnapshotType     string    `yaml:"type"` // manual|automated
	Engine           string    `yaml:"engine"`
	EngineVersion    string    `yaml:"engine_version"`
	AllocatedStorage int       `yaml:"allocated_storage"`
	CreateTime       time.Time `yaml:"create_time"`
	Tags             Tags      `yaml:"tags"`
}

// Topic is an SNS topic with the messages published to it.
type Topic struct {
	ARN      string    `yaml:"arn"`
	Name     string    `yaml:"name"`
	Messages []Message `yaml:"-"`
}

// Message is one SNS message published in the sim.
type Message struct {
	ID         string
	Subject    string
	Body       string
	Attributes map[string]string
	At         time.Time
}

// MetricSeries is a seeded CloudWatch metric with its datapoints.
type MetricSeries struct {
	Namespace  string            `yaml:"namespace"`
	Name       string            `yaml:"name"`
	Dimensions map[string]string `yaml:"dimensions"`
	Unit       string            `yaml:"unit"`
	Points     []Datapoint       `yaml:"points"`
}

// Datapoint is one raw metric value.
type Datapoint struct {
	Time  time.Time `yaml:"time"`
	Value float64   `yaml:"value"`
}
