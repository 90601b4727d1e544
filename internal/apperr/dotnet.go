package apperr

import "strings"

// dotnetLeads are the words the .NET runtime puts before an unhandled exception (the second is
// .NET Core 2 and .NET Framework's).
var dotnetLeads = []string{"Unhandled exception. ", "Unhandled Exception: "}

// parseDotNet reads the runtime's unhandled-exception report: the exception line, " ---> " inner
// exceptions, "   at" frames and the "--- End of …" separators.
func parseDotNet(recs []record, i, from int) (block, int, bool) {
	t := strings.TrimSpace(recs[i].text)
	for _, lead := range dotnetLeads {
		if strings.HasPrefix(t, lead) {
			b, next := dotnetStack(recs, i, strings.TrimPrefix(t, lead))
			return b, next, true
		}
	}
	return block{}, 0, false
}

// dotnetStack reads the exception line at recs[h] (its text after any lead) and the stack.
func dotnetStack(recs []record, h int, head string) (block, int) {
	b := block{runtime: DotNet, kind: kindCrash, first: h, cite: []int{h}}
	inner := dotnetInner(head)
	app := -1
	k := h + 1
	for ; k < len(recs); k++ {
		t := strings.TrimSpace(recs[k].text)
		switch {
		case strings.HasPrefix(t, "at "):
			if app < 0 && dotnetAppFrame(t) {
				app = k
			}
		case strings.HasPrefix(t, "---> "):
			b.cite = append(b.cite, k)
			inner = dotnetInner(t)
		case strings.HasPrefix(t, "--- End of "):
		default:
			return dotnetFinish(b, head, inner, app, k), k
		}
	}
	return dotnetFinish(b, head, inner, app, k), k
}

func dotnetFinish(b block, head, inner string, app, k int) block {
	b.last = k - 1
	top := head
	if i := strings.Index(head, " ---> "); i >= 0 {
		top = head[:i]
	}
	b.summary = strings.TrimSpace(top)
	if inner != "" && inner != b.summary {
		b.summary = inner + " (root cause of " + shorten(b.summary, 160) + ")"
	}
	if app >= 0 {
		b.cite = append(b.cite, app)
	}
	return b
}

// dotnetInner returns the innermost exception a line names after " ---> ", or "".
func dotnetInner(t string) string {
	i := strings.LastIndex(t, "---> ")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(t[i+len("---> "):])
}

// dotnetAppFrame: frames with source lines ("in /src/App.cs:line 12") are the application's;
// the framework ships without them.
func dotnetAppFrame(t string) bool {
	if strings.Contains(t, " in ") && strings.Contains(t, ":line ") {
		return true
	}
	return false
}

func dotnetFrame(t string) bool {
	return strings.HasPrefix(t, "at ") && strings.Contains(t, " in ") && strings.Contains(t, ":line ")
}

func dotnetHead(t string) bool {
	t = strings.TrimSpace(t)
	return strings.HasPrefix(t, "System.") || strings.HasPrefix(t, "Microsoft.") || strings.Contains(t, " ---> System.")
}
