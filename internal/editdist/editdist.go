// Package editdist measures how far apart two names are, so that an error about an unknown name
// (a log key, a Kubernetes kind) can suggest the ones that were probably meant.
package editdist

// Levenshtein is the number of single-byte insertions, deletions and substitutions that turn a
// into b. Names here are ASCII; comparing bytes is what a typo changes.
func Levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
