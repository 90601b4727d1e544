package app

import (
	"strings"

	"github.com/nodediag/nodediag/internal/index"
)

// NormalizeSeverity reads a lowest severity: the catalog's critical, high, medium, low, info,
// or the legacy warning (= medium); empty is low. field names the parameter in the error.
func NormalizeSeverity(field, s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "":
		return "low", nil
	case "warning", "warn":
		return "medium", nil
	}
	if index.SeverityRank(s) > 4 {
		return "", badf("%s %q: want critical, high, medium (or warning), low or info", field, s)
	}
	return s, nil
}
