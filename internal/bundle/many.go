package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// archiveExts are the names of the archives Extract reads; a folder of bundles is recognised by
// them, since sniffing the content of every file of a big folder would read each one.
var archiveExts = []string{".tar.gz", ".tgz", ".tar", ".zip"}

// IsArchiveName reports whether a file name ends like a bundle archive.
func IsArchiveName(name string) bool {
	lower := strings.ToLower(name)
	for _, ext := range archiveExts {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// sectionDirs are the top-level folders of the log collector's and the node monitoring agent's
// layouts (see detectLayout); logdog writes its files flat under bottlerocket-logs/.
var sectionDirs = []string{"kernel", "kubelet", "containerd", "system", "var_log", "ipamd", "networking", "nodeadm", "storage"}

// LooksLikeBundleDir reports whether dir holds one extracted bundle: a section folder of the
// collector's layout, or logdog's journalctl.log, at its top or under one top folder (an archive
// extracted with its eks_<instance>_… folder).
func LooksLikeBundleDir(dir string) bool {
	if hasBundleMarker(dir) {
		return true
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	var sub []os.DirEntry
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			sub = append(sub, e)
		}
	}
	return len(sub) == 1 && sub[0].IsDir() && hasBundleMarker(filepath.Join(dir, sub[0].Name()))
}

func hasBundleMarker(dir string) bool {
	for _, s := range sectionDirs {
		if fi, err := os.Stat(filepath.Join(dir, s)); err == nil && fi.IsDir() {
			return true
		}
	}
	for _, f := range []string{"journalctl.log", filepath.Join("bottlerocket-logs", "journalctl.log")} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// Listing is what a folder of bundles holds at its top level.
type Listing struct {
	Bundles []string  // archives and bundle folders, by name
	Ignored []Ignored // every other entry, with why
}

// Ignored is an entry of a folder of bundles that is not a bundle.
type Ignored struct {
	Path string `json:"path" yaml:"path"`
	Why  string `json:"why" yaml:"why"`
}

// ListBundles lists the bundles directly inside dir: files named like an archive and
// subfolders that LooksLikeBundleDir. It does not descend further: a bundle folder's own
// members (rotated logs, nested archives) are parts of that bundle, not bundles of their own.
func ListBundles(dir string) (Listing, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return Listing{}, fmt.Errorf("list the bundles in %s: %w", dir, err)
	}
	var l Listing
	for _, e := range ents {
		name := e.Name()
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p) // follows a link to an archive or a folder, as a shell glob would
		switch {
		case strings.HasPrefix(name, "."):
			continue // hidden files and partial downloads (.part) are nobody's bundle
		case err != nil:
			l.Ignored = append(l.Ignored, Ignored{p, err.Error()})
		case fi.Mode().IsRegular() && IsArchiveName(name):
			l.Bundles = append(l.Bundles, p)
		case fi.IsDir() && LooksLikeBundleDir(p):
			l.Bundles = append(l.Bundles, p)
		case fi.IsDir() && instanceFolder.MatchString(name):
			// <instance>/<archive>: how bundles named after their host (logdog, the monitoring
			// agent) are kept apart, by people and by the fleet generator; the import takes the
			// instance from the folder.
			l.Bundles, l.Ignored = instanceArchives(p, l.Bundles, l.Ignored)
		case fi.IsDir():
			l.Ignored = append(l.Ignored, Ignored{p, "a folder without a bundle's layout (not searched further)"})
		default:
			l.Ignored = append(l.Ignored, Ignored{p, "not named like a bundle archive (" + strings.Join(archiveExts, ", ") + ")"})
		}
	}
	sort.Strings(l.Bundles)
	return l, nil
}

// instanceFolder is a folder named after an EC2 instance id.
var instanceFolder = regexp.MustCompile(`^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$`)

// instanceArchives adds the archives directly inside an instance's folder.
func instanceArchives(dir string, bundles []string, ignored []Ignored) ([]string, []Ignored) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return bundles, append(ignored, Ignored{dir, err.Error()})
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.Type().IsRegular() && IsArchiveName(e.Name()) && !strings.HasPrefix(e.Name(), ".") {
			bundles = append(bundles, p)
		} else {
			ignored = append(ignored, Ignored{p, "not an archive directly inside the instance's folder"})
		}
	}
	return bundles, ignored
}
