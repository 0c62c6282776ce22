package awssim

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
)

const snsNamespace = "http://sns.amazonaws.com/doc/2010-03-31/"

// snsAPI serves SNS topics and Publish (awsquery). Published messages are
// kept on the topic; read them with Sim.Published.
type snsAPI struct{ sim *Sim }

func newSNS(s *Sim) *queryService {
	a := &snsAPI{sim: s}
	h := map[string]func(*RegionState, *Request, params) (any, error){
		"Publish":     a.publish,
		"CreateTopic": a.createTopic,
		"ListTopics":  a.listTopics,
	}
	actions := map[string]queryHandler{}
	for name, fn := range h {
		fn := fn
		actions[name] = func(r *Request, p params) (any, error) {
			rs, unlock, err := s.lockedRegion(r)
			if err != nil {
				return nil, err
			}
			defer unlock()
			return fn(rs, r, p)
		}
	}
	return &queryService{name: "sns", xmlns: snsNamespace, actions: actions}
}

// Published returns the messages published to a topic, oldest first.
func (s *Sim) Published(account, region, topicARN string) ([]Message, error) {
	var out []Message
	err := s.WithRegion(account, region, func(rs *RegionState) error {
		if t := rs.Topics[topicARN]; t != nil {
			out = append(out, t.Messages...)
		}
		return nil
	})
	return out, err
}

func (a *snsAPI) publish(rs *RegionState, r *Request, p params) (any, error) {
	arn := orDefault(p.get("TopicArn"), p.get("TargetArn"))
	if arn == "" {
		return nil, apiErr("InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	}
	msg, err := p.require("Message")
	if err != nil {
		return nil, apiErr("InvalidParameter", "Invalid parameter: Empty message")
	}
	if len(msg) > 256*1024 {
		return nil, apiErr("InvalidParameter", "Invalid parameter: Message too long")
	}
	t := rs.Topics[arn]
	if t == nil {
		e := apiErr("NotFound", "Topic does not exist")
		e.Status = http.StatusNotFound
		return nil, e
	}
	attrs := map[string]string{}
	for _, g := range p.indexed("MessageAttributes.entry") {
		attrs[g["Name"]] = g["Value.StringValue"]
	}
	id := a.sim.requestID()
	t.Messages = append(t.Messages, Message{ID: id, Subject: p.get("Subject"), Body: msg, Attributes: attrs, At: a.sim.Now()})
	return struct {
		MessageID string `xml:"MessageId"`
	}{id}, nil
}

func (a *snsAPI) createTopic(rs *RegionState, r *Request, p params) (any, error) {
	name, err := p.require("Name")
	if err != nil {
		return nil, apiErr("InvalidParameter", "Invalid parameter: Topic Name")
	}
	for _, c := range name {
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') || len(name) > 256 {
			return nil, apiErr("InvalidParameter", "Invalid parameter: Topic Name")
		}
	}
	arn := a.sim.arn("sns", rs.Region, rs.Account, name)
	if rs.Topics[arn] == nil {
		rs.Topics[arn] = &Topic{ARN: arn, Name: name}
	}
	return struct {
		TopicArn string `xml:"TopicArn"`
	}{arn}, nil
}

func (a *snsAPI) listTopics(rs *RegionState, _ *Request, p params) (any, error) {
	keys := sortedKeys(rs.Topics)
	start := 0
	if tok := p.get("NextToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || !strings.HasPrefix(string(raw), "m:") {
			return nil, apiErr("InvalidParameter", "Invalid parameter: NextToken")
		}
		start = sort.SearchStrings(keys, string(raw[2:]))
		if start < len(keys) && keys[start] == string(raw[2:]) {
			start++
		}
	}
	type xTopic struct {
		TopicArn string `xml:"TopicArn"`
	}
	out := struct {
		Topics    members[xTopic] `xml:"Topics"`
		NextToken string          `xml:"NextToken,omitempty"`
	}{Topics: members[xTopic]{}}
	end := start + 100
	if end >= len(keys) {
		end = len(keys)
	} else {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte("m:" + keys[end-1]))
	}
	for _, k := range keys[start:end] {
		out.Topics = append(out.Topics, xTopic{k})
	}
	return out, nil
}
