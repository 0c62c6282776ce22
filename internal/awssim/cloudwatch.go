package awssim

import (
	"errors"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// cloudWatch serves CloudWatch metrics over Smithy RPC v2 CBOR, the
// protocol of the aws-sdk-go-v2 cloudwatch module in go.mod (requests are
// POST /service/GraniteServiceVersion20100801/operation/NAME). Errors carry
// the awsQueryCompatible X-Amzn-Query-Error header, as CloudWatch's do.
type cloudWatch struct{ sim *Sim }

var _ Service = (*cloudWatch)(nil)

func newCloudWatch(s *Sim) *cloudWatch { return &cloudWatch{sim: s} }

func (c *cloudWatch) SigningName() string { return "monitoring" }

func (c *cloudWatch) Operation(r *Request) (string, error) {
	path := r.HTTP.URL.Path
	i := strings.LastIndex(path, "/operation/")
	if i < 0 {
		return "", apiErr("UnknownOperationException", "The sim serves CloudWatch over Smithy RPC v2 CBOR only")
	}
	op := path[i+len("/operation/"):]
	if op != "GetMetricStatistics" {
		return op, apiErr("UnknownOperationException", "The operation %s is not simulated", op)
	}
	return op, nil
}

func (c *cloudWatch) Serve(w http.ResponseWriter, r *Request) {
	var in cbor.Map
	if len(r.Body) > 0 {
		v, err := cbor.Decode(r.Body)
		if err != nil {
			c.WriteError(w, r, apiErr("SerializationException", "cannot decode CBOR request: %v", err))
			return
		}
		m, ok := v.(cbor.Map)
		if !ok {
			c.WriteError(w, r, apiErr("SerializationException", "request body is not a CBOR map"))
			return
		}
		in = m
	}
	out, err := c.getMetricStatistics(r, in)
	if err != nil {
		c.WriteError(w, r, asAPIError(err))
		return
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("x-amzn-RequestId", r.RequestID)
	_, _ = w.Write(cbor.Encode(out))
}

func (c *cloudWatch) WriteError(w http.ResponseWriter, r *Request, e *APIError) {
	fault := "Receiver"
	if e.Sender {
		fault = "Sender"
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("X-Amzn-Query-Error", e.Code+";"+fault)
	w.Header().Set("x-amzn-RequestId", r.RequestID)
	w.WriteHeader(e.status())
	_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(e.Code), "message": cbor.String(e.Message)}))
}

var errNotCBORString = errors.New("not a string")

func cborString(v cbor.Value) (string, error) {
	s, ok := v.(cbor.String)
	if !ok {
		return "", errNotCBORString
	}
	return string(s), nil
}

func cborStrings(v cbor.Value) ([]string, error) {
	l, ok := v.(cbor.List)
	if !ok {
		return nil, errNotCBORString
	}
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, err := cborString(x)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (c *cloudWatch) getMetricStatistics(r *Request, in cbor.Map) (cbor.Map, error) {
	bad := func(name string) error {
		return apiErr("InvalidParameterValue", "The parameter %s is not valid.", name)
	}
	str := func(name string) (string, error) {
		v, ok := in[name]
		if !ok {
			return "", apiErr("MissingParameter", "The parameter %s is required.", name)
		}
		s, err := cborString(v)
		if err != nil {
			return "", bad(name)
		}
		return s, nil
	}
	ns, err := str("Namespace")
	if err != nil {
		return nil, err
	}
	name, err := str("MetricName")
	if err != nil {
		return nil, err
	}
	times := map[string]time.Time{}
	for _, k := range []string{"StartTime", "EndTime"} {
		v, ok := in[k]
		if !ok {
			return nil, apiErr("MissingParameter", "The parameter %s is required.", k)
		}
		t, err := cbor.AsTime(v)
		if err != nil {
			return nil, bad(k)
		}
		times[k] = t
	}
	pv, ok := in["Period"]
	if !ok {
		return nil, apiErr("MissingParameter", "The parameter Period is required.")
	}
	period, err := cbor.AsInt64(pv)
	if err != nil || period < 1 {
		return nil, bad("Period")
	}
	if period >= 60 && period%60 != 0 || period < 60 && period != 1 && period != 5 && period != 10 && period != 30 {
		return nil, apiErr("InvalidParameterValue", "The parameter Period must be a multiple of 60.")
	}
	var stats []string
	if v, ok := in["Statistics"]; ok {
		if stats, err = cborStrings(v); err != nil {
			return nil, bad("Statistics")
		}
	}
	if v, ok := in["ExtendedStatistics"]; ok {
		if ext, err := cborStrings(v); err != nil || len(ext) > 0 {
			return nil, apiErr("InvalidParameterValue", "The sim does not compute ExtendedStatistics.")
		}
	}
	if len(stats) == 0 {
		return nil, apiErr("InvalidParameterCombination", "At least one of the parameters Statistics and ExtendedStatistics must be specified.")
	}
	for _, st := range stats {
		switch st {
		case "SampleCount", "Average", "Sum", "Minimum", "Maximum":
		default:
			return nil, bad("Statistics")
		}
	}
	dims := map[string]string{}
	if v, ok := in["Dimensions"]; ok {
		l, ok := v.(cbor.List)
		if !ok {
			return nil, bad("Dimensions")
		}
		for _, d := range l {
			m, ok := d.(cbor.Map)
			if !ok {
				return nil, bad("Dimensions")
			}
			k, err1 := cborString(m["Name"])
			val, err2 := cborString(m["Value"])
			if err1 != nil || err2 != nil {
				return nil, bad("Dimensions")
			}
			dims[k] = val
		}
	}
	unitFilter := ""
	if v, ok := in["Unit"]; ok {
		if unitFilter, err = cborString(v); err != nil {
			return nil, bad("Unit")
		}
	}
	start, end := times["StartTime"], times["EndTime"]
	if !start.Before(end) {
		return nil, apiErr("InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.")
	}
	if n := end.Sub(start) / (time.Duration(period) * time.Second); n > 1440 {
		return nil, apiErr("InvalidParameterCombination", "You have requested up to %d datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", n)
	}
	type bucket struct {
		n               int
		sum, minV, maxV float64
		unit            string
	}
	buckets := map[int64]*bucket{}
	rs, unlock, err := c.sim.lockedRegion(r)
	if err != nil {
		return nil, err
	}
	for _, m := range rs.Metrics {
		if m.Namespace != ns || m.Name != name || len(m.Dimensions) != len(dims) || (unitFilter != "" && m.Unit != unitFilter) {
			continue
		}
		match := true
		for k, v := range dims {
			match = match && m.Dimensions[k] == v
		}
		if !match {
			continue
		}
		for _, pt := range m.Points {
			if pt.Time.Before(start) || !pt.Time.Before(end) {
				continue
			}
			k := int64(pt.Time.Sub(start)/time.Second) / period
			b := buckets[k]
			if b == nil {
				b = &bucket{minV: math.Inf(1), maxV: math.Inf(-1), unit: orDefault(m.Unit, "None")}
				buckets[k] = b
			}
			b.n++
			b.sum += pt.Value
			b.minV = math.Min(b.minV, pt.Value)
			b.maxV = math.Max(b.maxV, pt.Value)
		}
	}
	unlock()
	keys := make([]int64, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	points := cbor.List{}
	for _, k := range keys {
		b := buckets[k]
		ts := start.Add(time.Duration(k*period) * time.Second)
		dp := cbor.Map{
			"Timestamp": &cbor.Tag{ID: 1, Value: cbor.Float64(float64(ts.UnixMilli()) / 1000)},
			"Unit":      cbor.String(b.unit),
		}
		for _, st := range stats {
			switch st {
			case "SampleCount":
				dp[st] = cbor.Float64(b.n)
			case "Average":
				dp[st] = cbor.Float64(b.sum / float64(b.n))
			case "Sum":
				dp[st] = cbor.Float64(b.sum)
			case "Minimum":
				dp[st] = cbor.Float64(b.minV)
			case "Maximum":
				dp[st] = cbor.Float64(b.maxV)
			}
		}
		points = append(points, dp)
	}
	return cbor.Map{"Label": cbor.String(name), "Datapoints": points}, nil
}
