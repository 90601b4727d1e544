package index

import (
	"strconv"

	"github.com/nodediag/nodediag/internal/facts"
)

// collapseRepeats folds a fact that only repeats an earlier one about the same subject into that
// earlier fact, counting it in Repeats: kubelet logs "back-off 5m0s restarting failed container"
// and a missing ConfigMap at every pod sync, so a day of a crash loop is thousands of lines that
// say one thing. A back-off or probe failure is a new fact once the container has exited, been
// killed or OOM-killed since, so every restart of the loop stays visible. facts must be in time
// order; the result is too.
func collapseRepeats(all []facts.Fact) []facts.Fact {
	open := map[string]int{}          // repeat key → index in out of the fact repeats fold into
	episodic := map[string][]string{} // container → its open back-off and probe keys
	out := all[:0]
	for _, f := range all {
		subject := containerKey(f)
		switch f.Kind {
		case facts.ContainerExit, facts.Killing, facts.OOMKill, facts.TaskOOM:
			// The container's next back-off or probe failure starts a new episode.
			for _, k := range episodic[subject] {
				delete(open, k)
			}
			delete(episodic, subject)
		}
		key := repeatKey(f, subject)
		if key == "" {
			out = append(out, f)
			continue
		}
		if i, ok := open[key]; ok {
			first := &out[i]
			first.Repeats++
			ref := f.Ref
			first.LastRef = &ref
			continue
		}
		open[key] = len(out)
		if f.Kind == facts.BackOff || f.Kind == facts.ProbeFailure {
			episodic[subject] = append(episodic[subject], key)
		}
		out = append(out, f)
	}
	return out
}

// containerKey names the container a fact is about, by the strongest identity the logs gave.
func containerKey(f facts.Fact) string {
	pod := f.PodUID
	if pod == "" && f.Pod != "" {
		pod = f.Namespace + "/" + f.Pod
	}
	if pod == "" || f.Container == "" {
		return ""
	}
	return pod + "|" + f.Container
}

// repeatKey says which facts count as the same statement; "" for kinds that never fold.
func repeatKey(f facts.Fact, container string) string {
	pod := f.PodUID
	if pod == "" && f.Pod != "" {
		pod = f.Namespace + "/" + f.Pod
	}
	switch f.Kind {
	case facts.BackOff:
		if container == "" {
			return ""
		}
		return "BackOff|" + container + "|" + f.Delay
	case facts.ProbeFailure:
		if container == "" {
			return ""
		}
		return "ProbeFailure|" + container + "|" + f.FailureKind + "|" + f.Message
	case facts.ConfigMissing:
		if pod == "" {
			return ""
		}
		return "ConfigMissing|" + pod + "|" + f.Container + "|" + f.FailureKind + "|" + f.Name + "|" + f.Source
	case facts.ImagePull:
		if pod == "" {
			return ""
		}
		return "ImagePull|" + pod + "|" + f.Container + "|" + f.Image + "|" + f.Message + "|" + strconv.Quote(f.Source)
	}
	return ""
}
