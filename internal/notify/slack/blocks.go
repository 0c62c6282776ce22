package slack

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stewardhq/steward/internal/approve"
	"github.com/stewardhq/steward/internal/notify"
)

// Block is one Block Kit block, as JSON.
type Block = map[string]any

// Msg is a rendered message: Text is the notification fallback.
type Msg struct {
	Text   string
	Blocks []Block
}

// Slack's limits: 50 blocks per message, 3000 characters per text field,
// 150 per header, 75 per button label, 2000 per button value.
const (
	maxBlocks    = 50
	maxText      = 2900
	maxResources = 10 // resources listed per notice; the rest are counted
)

// escape makes s literal in Slack mrkdwn: &, < and > would otherwise make
// links and mentions.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func mrkdwn(s string) Block {
	if len(s) > maxText {
		cut := maxText
		for cut > 0 && s[cut]&0xC0 == 0x80 { // keep UTF-8 whole
			cut--
		}
		s = s[:cut] + "…"
	}
	return Block{"type": "section", "text": Block{"type": "mrkdwn", "text": s}}
}

// actionValue is what a button carries: the approval and the choice. It is
// not a URL, so nothing follows it.
type actionValue struct {
	V            int            `json:"v"`
	ApprovalID   string         `json:"a"`
	ExecutionARN string         `json:"e,omitempty"`
	Choice       approve.Choice `json:"c"`
}

// EncodeAction is the button value for a choice of an approval.
func EncodeAction(approvalID, executionARN string, c approve.Choice) string {
	b, _ := json.Marshal(actionValue{V: 1, ApprovalID: approvalID, ExecutionARN: executionARN, Choice: c})
	if len(b) > 2000 { // drop the ARN rather than exceed Slack's limit
		b, _ = json.Marshal(actionValue{V: 1, ApprovalID: approvalID, Choice: c})
	}
	return string(b)
}

// ActionIDPrefix starts the action_id of every steward button.
const ActionIDPrefix = "steward-choice-"

// Message renders notices as one Block Kit message: a header, then per
// notice what was found, where, who owns it, what will happen when, and a
// button per choice (or, once decided, the decision and who made it).
// Notices beyond what fits in Slack's 50 blocks are counted in a last line.
func Message(notices []notify.Notice) Msg {
	m := Msg{Text: escape(notify.Subject(notices))}
	header := "steward: " + fmt.Sprint(len(notices)) + " findings need a decision"
	if len(notices) == 1 {
		header = "steward: " + notices[0].Playbook + " needs a decision"
	}
	if len(notices) > 0 && notices[0].Reminder > 0 {
		header = "Reminder - " + header
	}
	header = notify.Clean(header, 140)
	m.Blocks = append(m.Blocks, Block{"type": "header", "text": Block{"type": "plain_text", "text": header}})
	for i, n := range notices {
		nb := noticeBlocks(i, n)
		if len(m.Blocks)+len(nb)+1 > maxBlocks {
			m.Blocks = append(m.Blocks, Block{"type": "context", "elements": []Block{{"type": "mrkdwn",
				"text": fmt.Sprintf("%d more finding(s) not shown; they were also sent by e-mail and are in steward's web UI.", len(notices)-i)}}})
			break
		}
		m.Blocks = append(m.Blocks, nb...)
	}
	return m
}

func noticeBlocks(i int, n notify.Notice) []Block {
	var out []Block
	if i > 0 {
		out = append(out, Block{"type": "divider"})
	}
	var b strings.Builder
	if n.Reminder > 0 {
		fmt.Fprintf(&b, ":alarm_clock: *Reminder %d*\n", n.Reminder)
	}
	if n.Note != "" {
		fmt.Fprintf(&b, ":warning: %s\n", escape(notify.Clean(n.Note, 0)))
	}
	fmt.Fprintf(&b, "*%s*\n", escape(notify.Clean(n.Title, 300)))
	if n.Detail != "" {
		fmt.Fprintf(&b, "%s\n", escape(notify.Clean(n.Detail, 1000)))
	}
	fmt.Fprintf(&b, "*Playbook:* %s", escape(notify.Clean(n.Playbook, 200)))
	if n.AccountClass != "" {
		fmt.Fprintf(&b, "   *Account class:* %s", escape(notify.Clean(n.AccountClass, 100)))
	}
	if o := owner(n.Owner); o != "" {
		fmt.Fprintf(&b, "\n*Owner:* %s", o)
	}
	out = append(out, mrkdwn(b.String()))

	b.Reset()
	b.WriteString("*Where:*")
	for j, r := range n.Resources {
		if j == maxResources {
			fmt.Fprintf(&b, "\n• … and %d more", len(n.Resources)-maxResources)
			break
		}
		fmt.Fprintf(&b, "\n• %s", escape(notify.ResourceLine(r)))
	}
	out = append(out, mrkdwn(b.String()))
	out = append(out, mrkdwn("*What will happen:* "+escape(notify.WhatWhen(n))))

	if d := n.Decision; d != nil {
		by := escape(notify.Clean(d.By.String(), 200))
		if d.Channel == "slack" && d.By.ID != "" && validID(d.By.ID) {
			by = "<@" + d.By.ID + ">"
		}
		at := ""
		if !d.At.IsZero() {
			at = " at " + d.At.UTC().Format(notify.TimeFormat)
		}
		out = append(out, Block{"type": "context", "elements": []Block{{"type": "mrkdwn",
			"text": fmt.Sprintf(":white_check_mark: *%s* - decided by %s via %s%s", escape(d.Choice.Label()), by, escape(d.Channel), at)}}})
		return out
	}
	var buttons []Block
	for j, o := range n.Choices {
		if j == 25 { // Slack's limit per actions block
			break
		}
		btn := Block{
			"type":      "button",
			"action_id": fmt.Sprintf("%s%d-%d", ActionIDPrefix, i, j),
			"text":      Block{"type": "plain_text", "text": notify.Clean(o.Text(), 70)},
			"value":     EncodeAction(n.ApprovalID, n.ExecutionARN, o.Choice),
		}
		switch o.Choice {
		case approve.ChoiceApprove:
			btn["style"] = "primary"
		case approve.ChoiceDeny:
			btn["style"] = "danger"
		}
		buttons = append(buttons, btn)
	}
	if len(buttons) > 0 {
		out = append(out, Block{"type": "actions", "block_id": fmt.Sprintf("steward-%d", i), "elements": buttons})
	}
	out = append(out, Block{"type": "context", "elements": []Block{{"type": "mrkdwn",
		"text": "Execution " + escape(notify.Clean(n.ExecutionARN, 300))}}})
	return out
}

func owner(o notify.Owner) string {
	var parts []string
	if o.SlackUser != "" && validID(o.SlackUser) {
		parts = append(parts, "<@"+o.SlackUser+">")
	}
	if o.Email != "" {
		parts = append(parts, escape(notify.Clean(o.Email, 200)))
	} else if o.Raw != "" {
		parts = append(parts, escape(notify.Clean(o.Raw, 300)))
	}
	return strings.Join(parts, " ")
}

// validID reports whether s looks like a Slack id (U123ABC, W..., C...).
func validID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
