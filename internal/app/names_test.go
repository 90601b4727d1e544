package app

import (
	"errors"
	"testing"
)

func TestRename(t *testing.T) {
	base := errors.New("offset is 9; give 0 to 5 with maxTotal 50 (offset+maxTotal at most 55); maxTotalX stays")
	err := Rename(base, CLISearchNames)
	want := "--offset is 9; give 0 to 5 with --max-results 50 (--offset+--max-results at most 55); maxTotalX stays"
	if err.Error() != want || !errors.Is(err, base) {
		t.Errorf("got %q (wraps the original: %v), want %q", err, errors.Is(err, base), want)
	}
	if Rename(nil, CLISearchNames) != nil {
		t.Error("a nil error renamed is not nil")
	}
	if plain := errors.New("nothing to rename"); Rename(plain, CLISearchNames) != plain {
		t.Error("an error without names is not returned as is")
	}
}
