package notify

import (
	"sort"
)

// Batch groups notices by recipient: each recipient gets one message
// listing all its notices, not one message per resource. Pass the notices
// of one playbook run to get one message per owner per run. A notice with
// several recipients appears under each; notices with no recipient are kept
// under the zero Recipient so that none is silently dropped. Within a
// recipient, notices are ordered by playbook, execution, title and approval
// id, and a notice listed twice (same approval id) is kept once.
func Batch(notices []Notice) map[Recipient][]Notice {
	out := map[Recipient][]Notice{}
	seen := map[Recipient]map[string]bool{}
	for _, n := range notices {
		to := n.To
		if len(to) == 0 {
			to = []Recipient{{}}
		}
		for _, r := range to {
			if seen[r] == nil {
				seen[r] = map[string]bool{}
			}
			if n.ApprovalID != "" {
				if seen[r][n.ApprovalID] {
					continue
				}
				seen[r][n.ApprovalID] = true
			}
			out[r] = append(out[r], n)
		}
	}
	for _, ns := range out {
		sort.SliceStable(ns, func(i, j int) bool {
			a, b := ns[i], ns[j]
			if a.Playbook != b.Playbook {
				return a.Playbook < b.Playbook
			}
			if a.ExecutionARN != b.ExecutionARN {
				return a.ExecutionARN < b.ExecutionARN
			}
			if a.Title != b.Title {
				return a.Title < b.Title
			}
			return a.ApprovalID < b.ApprovalID
		})
	}
	return out
}
