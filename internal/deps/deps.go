// Package deps pins modules that packages under construction will import, so that
// parallel work does not race on go.mod. Removed once every module is imported for real.
package deps

import (
	_ "github.com/coregx/ahocorasick"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/klauspost/compress/gzip"
	_ "github.com/klauspost/pgzip"
	_ "github.com/petar-dambovaliev/aho-corasick"
	_ "github.com/spf13/cobra"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/tools/txtar"
)
