package notify

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Clean makes an outside string safe to show on one line: control
// characters (newlines included) become spaces and it is cut to max runes
// (0 means 500). Tag values and resource names come from whoever made the
// resource; they must not be able to add lines (fake links) to a message.
func Clean(s string, max int) string {
	if max <= 0 {
		max = 500
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n >= max {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == unicode.ReplacementChar {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// TimeFormat is how deadlines are shown.
const TimeFormat = "Mon 2 Jan 2006 15:04 MST"

// Subject is the one-line summary of a message carrying notices.
func Subject(notices []Notice) string {
	if len(notices) == 0 {
		return "[steward] nothing to decide"
	}
	prefix := "[steward] "
	if notices[0].Reminder > 0 {
		prefix = "[steward] Reminder: "
	}
	by := ""
	if dl := earliest(notices); !dl.IsZero() {
		by = " - decide by " + dl.UTC().Format(TimeFormat)
	}
	if len(notices) == 1 {
		n := notices[0]
		return Clean(fmt.Sprintf("%s%s: %s (%d resource%s)%s", prefix, n.Playbook, n.Title,
			len(n.Resources), plural(len(n.Resources)), by), 200)
	}
	res := 0
	for _, n := range notices {
		res += len(n.Resources)
	}
	return Clean(fmt.Sprintf("%s%d findings on %d resource%s%s", prefix, len(notices), res, plural(res), by), 200)
}

func earliest(notices []Notice) time.Time {
	var t time.Time
	for _, n := range notices {
		if !n.Deadline.IsZero() && (t.IsZero() || n.Deadline.Before(t)) {
			t = n.Deadline
		}
	}
	return t
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ResourceLine is one resource as one line of text.
func ResourceLine(r Resource) string {
	var b strings.Builder
	b.WriteString(r.Name())
	if r.Type != "" {
		b.WriteString(" (" + r.Type + ")")
	}
	b.WriteString(" in account " + r.Account)
	if r.Region != "" {
		b.WriteString(", " + r.Region)
	}
	if r.ARN != "" && r.ARN != r.Name() {
		b.WriteString(", " + r.ARN)
	}
	if r.Owner != "" {
		b.WriteString(", owner " + r.Owner)
	}
	return Clean(b.String(), 500)
}

// WhatWhen says what will happen and when, for one notice.
func WhatWhen(n Notice) string {
	s := "steward will " + n.Action
	if n.Action == "" {
		s = "steward will apply the fix"
	}
	if !n.Deadline.IsZero() {
		s += " on " + n.Deadline.UTC().Format(TimeFormat)
	}
	if n.DefaultAction != "" {
		s += " unless someone decides otherwise (default: " + n.DefaultAction.Label() + ")"
	}
	return Clean(s+".", 600)
}

// RenderText renders notices as a plain-text message body, links included.
func RenderText(notices []Notice) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	if len(notices) > 1 {
		w("steward found %d things that need a decision.\n\n", len(notices))
	}
	for i, n := range notices {
		if i > 0 {
			b.WriteString("\n----------------------------------------\n\n")
		}
		if n.Reminder > 0 {
			w("REMINDER %d: this still needs a decision.\n", n.Reminder)
		}
		if n.Note != "" {
			w("NOTE: %s\n", Clean(n.Note, 0))
		}
		w("%s\n", Clean(n.Title, 300))
		if n.Detail != "" {
			w("%s\n", Clean(n.Detail, 1000))
		}
		w("\nPlaybook: %s\n", Clean(n.Playbook, 200))
		if n.AccountClass != "" {
			w("Account class: %s\n", Clean(n.AccountClass, 100))
		}
		if o := ownerText(n.Owner); o != "" {
			w("Owner: %s\n", o)
		}
		w("Resources:\n")
		for _, r := range n.Resources {
			w("  - %s\n", ResourceLine(r))
		}
		w("\nWhat will happen: %s\n", WhatWhen(n))
		if n.Decision != nil {
			w("\nDECIDED: %s by %s via %s.\n", n.Decision.Choice.Label(), Clean(n.Decision.By.String(), 200), n.Decision.Channel)
		} else if len(n.Choices) > 0 {
			w("\nYour choices (each link opens a confirmation page):\n")
			for _, o := range n.Choices {
				if o.URL != "" {
					w("  %s:\n    %s\n", o.Text(), o.URL)
				} else {
					w("  %s\n", o.Text())
				}
			}
		}
		w("\nExecution: %s\n", Clean(n.ExecutionARN, 300))
	}
	return b.String()
}

func ownerText(o Owner) string {
	switch {
	case o.Email != "" && o.Raw != "" && o.Raw != o.Email:
		return Clean(o.Email+" ("+o.Raw+")", 300)
	case o.Email != "":
		return Clean(o.Email, 300)
	}
	return Clean(o.Raw, 300)
}
