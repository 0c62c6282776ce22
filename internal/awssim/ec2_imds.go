package awssim

// IMDSDefaults are the account-level (per region) instance metadata
// defaults; empty fields mean "no preference".
type IMDSDefaults struct {
	HTTPTokens   string `yaml:"http_tokens"`
	HTTPEndpoint string `yaml:"http_endpoint"`
	HopLimit     int    `yaml:"http_put_response_hop_limit"`
	MetadataTags string `yaml:"instance_metadata_tags"`
}

type xIMDSDefaults struct {
	HTTPTokens           string `xml:"httpTokens,omitempty"`
	HopLimit             int    `xml:"httpPutResponseHopLimit,omitempty"`
	HTTPEndpoint         string `xml:"httpEndpoint,omitempty"`
	InstanceMetadataTags string `xml:"instanceMetadataTags,omitempty"`
}

func (e *ec2API) getInstanceMetadataDefaults(r *Request, _ params) (any, error) {
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	d := rs.IMDSDefaults
	return struct {
		AccountLevel xIMDSDefaults `xml:"accountLevel"`
	}{xIMDSDefaults{HTTPTokens: d.HTTPTokens, HopLimit: d.HopLimit, HTTPEndpoint: d.HTTPEndpoint, InstanceMetadataTags: d.MetadataTags}}, nil
}

func (e *ec2API) modifyInstanceMetadataDefaults(r *Request, p params) (any, error) {
	check := func(name, v string, allowed ...string) (string, error) {
		if v == "" {
			return "", nil
		}
		for _, a := range allowed {
			if v == a {
				if v == "no-preference" {
					return "", nil
				}
				return v, nil
			}
		}
		return "", apiErr("InvalidParameterValue", "Invalid value '%s' for %s", v, name)
	}
	tokens, err := check("HttpTokens", p.get("HttpTokens"), "optional", "required", "no-preference")
	if err != nil {
		return nil, err
	}
	endpoint, err := check("HttpEndpoint", p.get("HttpEndpoint"), "enabled", "disabled", "no-preference")
	if err != nil {
		return nil, err
	}
	tags, err := check("InstanceMetadataTags", p.get("InstanceMetadataTags"), "enabled", "disabled", "no-preference")
	if err != nil {
		return nil, err
	}
	hop, hasHop, err := p.int("HttpPutResponseHopLimit")
	if err != nil {
		return nil, err
	}
	if hasHop && hop != -1 && (hop < 1 || hop > 64) {
		return nil, apiErr("InvalidParameterValue", "Invalid value '%d' for HttpPutResponseHopLimit", hop)
	}
	rs, unlock, err := e.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	defer unlock()
	d := &rs.IMDSDefaults
	if p.has("HttpTokens") {
		d.HTTPTokens = tokens
	}
	if p.has("HttpEndpoint") {
		d.HTTPEndpoint = endpoint
	}
	if p.has("InstanceMetadataTags") {
		d.MetadataTags = tags
	}
	if hasHop {
		d.HopLimit = max(hop, 0)
	}
	return returnTrue{Return: true}, nil
}
