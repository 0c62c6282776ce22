package awssim

import "encoding/xml"

// set is an EC2 list: <name><item>..</item>..</name>, written even when empty.
type set[T any] []T

func (s set[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for i := range s {
		if err := e.EncodeElement(s[i], xml.StartElement{Name: xml.Name{Local: "item"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// XML views of EC2 resources, with the ec2query element names.

type xTag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func xTags(ts Tags) []xTag {
	out := make([]xTag, 0, len(ts))
	for _, t := range ts {
		out = append(out, xTag(t))
	}
	return out
}

type xVolumeAttachment struct {
	VolumeID            string `xml:"volumeId"`
	InstanceID          string `xml:"instanceId"`
	Device              string `xml:"device"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type xVolume struct {
	VolumeID           string                 `xml:"volumeId"`
	Size               int                    `xml:"size"`
	SnapshotID         string                 `xml:"snapshotId"`
	AvailabilityZone   string                 `xml:"availabilityZone"`
	Status             string                 `xml:"status"`
	CreateTime         string                 `xml:"createTime"`
	Attachments        set[xVolumeAttachment] `xml:"attachmentSet"`
	Tags               []xTag                 `xml:"tagSet>item,omitempty"`
	VolumeType         string                 `xml:"volumeType"`
	Iops               int                    `xml:"iops,omitempty"`
	Throughput         int                    `xml:"throughput,omitempty"`
	Encrypted          bool                   `xml:"encrypted"`
	MultiAttachEnabled bool                   `xml:"multiAttachEnabled"`
}

type xSnapshot struct {
	SnapshotID  string `xml:"snapshotId"`
	VolumeID    string `xml:"volumeId"`
	Status      string `xml:"status"`
	StartTime   string `xml:"startTime"`
	Progress    string `xml:"progress"`
	OwnerID     string `xml:"ownerId"`
	VolumeSize  int    `xml:"volumeSize"`
	Description string `xml:"description"`
	Encrypted   bool   `xml:"encrypted"`
	StorageTier string `xml:"storageTier,omitempty"`
	Tags        []xTag `xml:"tagSet>item,omitempty"`
}

type xInstanceState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type xStateReason struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type xGroupIdentifier struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type xMetadataOptions struct {
	State                   string `xml:"state"`
	HTTPTokens              string `xml:"httpTokens"`
	HTTPPutResponseHopLimit int    `xml:"httpPutResponseHopLimit"`
	HTTPEndpoint            string `xml:"httpEndpoint"`
	HTTPProtocolIpv6        string `xml:"httpProtocolIpv6"`
	InstanceMetadataTags    string `xml:"instanceMetadataTags"`
}

type xPlacement struct {
	AvailabilityZone string `xml:"availabilityZone"`
	GroupName        string `xml:"groupName"`
	Tenancy          string `xml:"tenancy"`
}

type xEbsBlockDevice struct {
	VolumeID            string `xml:"volumeId"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type xBlockDeviceMapping struct {
	DeviceName string          `xml:"deviceName"`
	Ebs        xEbsBlockDevice `xml:"ebs"`
}

type xIamInstanceProfile struct {
	Arn string `xml:"arn"`
	ID  string `xml:"id"`
}

type xProductCode struct {
	ProductCode string `xml:"productCode"`
	Type        string `xml:"type"`
}

type xCPUOptions struct {
	CoreCount      int `xml:"coreCount"`
	ThreadsPerCore int `xml:"threadsPerCore"`
}

type xEnabledFlag struct {
	Configured bool `xml:"configured"`
}

type xEnclaveOptions struct {
	Enabled bool `xml:"enabled"`
}

type xMonitoring struct {
	State string `xml:"state"`
}

type xCapacityReservation struct {
	Preference string `xml:"capacityReservationPreference"`
}

type xMaintenanceOptions struct {
	AutoRecovery string `xml:"autoRecovery"`
}

type xPrivateDNSNameOptions struct {
	HostnameType                    string `xml:"hostnameType"`
	EnableResourceNameDNSARecord    bool   `xml:"enableResourceNameDnsARecord"`
	EnableResourceNameDNSAAAARecord bool   `xml:"enableResourceNameDnsAAAARecord"`
}

type xInstance struct {
	InstanceID            string                   `xml:"instanceId"`
	ImageID               string                   `xml:"imageId"`
	State                 xInstanceState           `xml:"instanceState"`
	StateReason           *xStateReason            `xml:"stateReason,omitempty"`
	PrivateDNSName        string                   `xml:"privateDnsName"`
	DNSName               string                   `xml:"dnsName"`
	Reason                string                   `xml:"reason"`
	KeyName               string                   `xml:"keyName,omitempty"`
	AmiLaunchIndex        int                      `xml:"amiLaunchIndex"`
	ProductCodes          set[xProductCode]        `xml:"productCodes"`
	InstanceType          string                   `xml:"instanceType"`
	LaunchTime            string                   `xml:"launchTime"`
	Placement             xPlacement               `xml:"placement"`
	Platform              string                   `xml:"platform,omitempty"`
	Monitoring            xMonitoring              `xml:"monitoring"`
	SubnetID              string                   `xml:"subnetId,omitempty"`
	VpcID                 string                   `xml:"vpcId,omitempty"`
	PrivateIPAddress      string                   `xml:"privateIpAddress,omitempty"`
	IPAddress             string                   `xml:"ipAddress,omitempty"`
	SourceDestCheck       bool                     `xml:"sourceDestCheck"`
	Groups                set[xGroupIdentifier]    `xml:"groupSet"`
	Architecture          string                   `xml:"architecture"`
	RootDeviceType        string                   `xml:"rootDeviceType"`
	RootDeviceName        string                   `xml:"rootDeviceName"`
	BlockDeviceMappings   set[xBlockDeviceMapping] `xml:"blockDeviceMapping"`
	VirtualizationType    string                   `xml:"virtualizationType"`
	ClientToken           string                   `xml:"clientToken"`
	Tags                  []xTag                   `xml:"tagSet>item,omitempty"`
	Hypervisor            string                   `xml:"hypervisor"`
	IamInstanceProfile    *xIamInstanceProfile     `xml:"iamInstanceProfile,omitempty"`
	EbsOptimized          bool                     `xml:"ebsOptimized"`
	EnaSupport            bool                     `xml:"enaSupport"`
	CPUOptions            xCPUOptions              `xml:"cpuOptions"`
	HibernationOptions    xEnabledFlag             `xml:"hibernationOptions"`
	MetadataOptions       xMetadataOptions         `xml:"metadataOptions"`
	EnclaveOptions        xEnclaveOptions          `xml:"enclaveOptions"`
	PlatformDetails       string                   `xml:"platformDetails"`
	UsageOperation        string                   `xml:"usageOperation"`
	UsageOperationUpdated string                   `xml:"usageOperationUpdateTime"`
	BootMode              string                   `xml:"bootMode,omitempty"`
	CapacityReservation   xCapacityReservation     `xml:"capacityReservationSpecification"`
	MaintenanceOptions    xMaintenanceOptions      `xml:"maintenanceOptions"`
	PrivateDNSNameOptions xPrivateDNSNameOptions   `xml:"privateDnsNameOptions"`
}

type xReservation struct {
	ReservationID string                `xml:"reservationId"`
	OwnerID       string                `xml:"ownerId"`
	Groups        set[xGroupIdentifier] `xml:"groupSet"`
	Instances     set[xInstance]        `xml:"instancesSet"`
}

type xInstanceStateChange struct {
	InstanceID    string         `xml:"instanceId"`
	CurrentState  xInstanceState `xml:"currentState"`
	PreviousState xInstanceState `xml:"previousState"`
}

type xIPRange struct {
	CidrIP      string `xml:"cidrIp"`
	Description string `xml:"description,omitempty"`
}

type xIPv6Range struct {
	CidrIPv6    string `xml:"cidrIpv6"`
	Description string `xml:"description,omitempty"`
}

type xUserIDGroupPair struct {
	UserID      string `xml:"userId"`
	GroupID     string `xml:"groupId"`
	Description string `xml:"description,omitempty"`
}

type xPrefixListID struct {
	PrefixListID string `xml:"prefixListId"`
	Description  string `xml:"description,omitempty"`
}

type xIPPermission struct {
	IPProtocol    string                `xml:"ipProtocol"`
	FromPort      *int                  `xml:"fromPort,omitempty"`
	ToPort        *int                  `xml:"toPort,omitempty"`
	Groups        set[xUserIDGroupPair] `xml:"groups"`
	IPRanges      set[xIPRange]         `xml:"ipRanges"`
	IPv6Ranges    set[xIPv6Range]       `xml:"ipv6Ranges"`
	PrefixListIDs set[xPrefixListID]    `xml:"prefixListIds"`
}

type xSecurityGroup struct {
	OwnerID             string             `xml:"ownerId"`
	GroupID             string             `xml:"groupId"`
	GroupName           string             `xml:"groupName"`
	GroupDescription    string             `xml:"groupDescription"`
	VpcID               string             `xml:"vpcId,omitempty"`
	SecurityGroupArn    string             `xml:"securityGroupArn"`
	IPPermissions       set[xIPPermission] `xml:"ipPermissions"`
	IPPermissionsEgress set[xIPPermission] `xml:"ipPermissionsEgress"`
	Tags                []xTag             `xml:"tagSet>item,omitempty"`
}

type xReferencedGroup struct {
	GroupID string `xml:"groupId"`
	UserID  string `xml:"userId"`
}

type xSecurityGroupRule struct {
	SecurityGroupRuleID  string            `xml:"securityGroupRuleId"`
	GroupID              string            `xml:"groupId"`
	GroupOwnerID         string            `xml:"groupOwnerId"`
	IsEgress             bool              `xml:"isEgress"`
	IPProtocol           string            `xml:"ipProtocol"`
	FromPort             int               `xml:"fromPort"`
	ToPort               int               `xml:"toPort"`
	CidrIPv4             string            `xml:"cidrIpv4,omitempty"`
	CidrIPv6             string            `xml:"cidrIpv6,omitempty"`
	PrefixListID         string            `xml:"prefixListId,omitempty"`
	ReferencedGroupInfo  *xReferencedGroup `xml:"referencedGroupInfo,omitempty"`
	Description          string            `xml:"description,omitempty"`
	Tags                 set[xTag]         `xml:"tagSet"`
	SecurityGroupRuleArn string            `xml:"securityGroupRuleArn"`
}

type xRevokedRule struct {
	SecurityGroupRuleID string `xml:"securityGroupRuleId"`
	GroupID             string `xml:"groupId"`
	IsEgress            bool   `xml:"isEgress"`
	IPProtocol          string `xml:"ipProtocol"`
	FromPort            int    `xml:"fromPort"`
	ToPort              int    `xml:"toPort"`
	CidrIPv4            string `xml:"cidrIpv4,omitempty"`
	CidrIPv6            string `xml:"cidrIpv6,omitempty"`
	PrefixListID        string `xml:"prefixListId,omitempty"`
	ReferencedGroupID   string `xml:"referencedGroupId,omitempty"`
	Description         string `xml:"description,omitempty"`
}

type xAddress struct {
	PublicIP                string `xml:"publicIp"`
	AllocationID            string `xml:"allocationId"`
	Domain                  string `xml:"domain"`
	InstanceID              string `xml:"instanceId,omitempty"`
	AssociationID           string `xml:"associationId,omitempty"`
	NetworkInterfaceID      string `xml:"networkInterfaceId,omitempty"`
	NetworkInterfaceOwnerID string `xml:"networkInterfaceOwnerId,omitempty"`
	PrivateIPAddress        string `xml:"privateIpAddress,omitempty"`
	PublicIPv4Pool          string `xml:"publicIpv4Pool"`
	NetworkBorderGroup      string `xml:"networkBorderGroup"`
	Tags                    []xTag `xml:"tagSet>item,omitempty"`
}

type xIGWAttachment struct {
	VpcID string `xml:"vpcId"`
	State string `xml:"state"`
}

type xInternetGateway struct {
	InternetGatewayID string              `xml:"internetGatewayId"`
	OwnerID           string              `xml:"ownerId"`
	Attachments       set[xIGWAttachment] `xml:"attachmentSet"`
	Tags              set[xTag]           `xml:"tagSet"`
}

type xTagDescription struct {
	ResourceID   string `xml:"resourceId"`
	ResourceType string `xml:"resourceType"`
	Key          string `xml:"key"`
	Value        string `xml:"value"`
}
