package cli

import (
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestServerJSON: server.json, the MCP registry entry, is valid JSON with the registry's
// required fields; its Go packages name this module at the same version as the entry, and
// start `nodediag serve` over stdio and over streamable HTTP with flags serve has. The version
// itself is checked against the release tag by bench/release.sh.
func TestServerJSON(t *testing.T) {
	raw, err := os.ReadFile("../../server.json")
	if err != nil {
		t.Fatal(err)
	}
	type arg struct {
		Type, Name, Value, ValueHint string
	}
	var s struct {
		Schema      string `json:"$schema"`
		Name        string
		Description string
		Version     string
		Repository  struct{ URL, Source string }
		Packages    []struct {
			RegistryType, Identifier, Version string
			Transport                         struct {
				Type, URL string
				Headers   []struct{ Name, Value string }
			}
			PackageArguments []arg
		}
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("server.json: %v", err)
	}
	if !strings.HasPrefix(s.Schema, "https://static.modelcontextprotocol.io/schemas/") {
		t.Errorf("$schema %q", s.Schema)
	}
	if !regexp.MustCompile(`^io\.github\.nodediag/[a-zA-Z0-9._-]+$`).MatchString(s.Name) {
		t.Errorf("name %q: want io.github.nodediag/…, the namespace the GitHub owner proves", s.Name)
	}
	if n := len(s.Description); n == 0 || n > 100 {
		t.Errorf("description is %d bytes; the registry wants 1 to 100", n)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`).MatchString(s.Version) {
		t.Errorf("version %q: want semver without v", s.Version)
	}
	if s.Repository.URL != "https://github.com/nodediag/nodediag" || s.Repository.Source != "github" {
		t.Errorf("repository %+v", s.Repository)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	module := strings.Fields(strings.SplitN(string(mod), "\n", 2)[0])[1]
	serve, _, err := newRoot(&globals{}).Find([]string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	transports := map[string]bool{}
	for i, p := range s.Packages {
		transports[p.Transport.Type] = true
		if p.RegistryType != "go" || p.Identifier != module || p.Version != "v"+s.Version {
			t.Errorf("package %d: %s %s %s; want go %s v%s", i, p.RegistryType, p.Identifier, p.Version, module, s.Version)
		}
		if len(p.PackageArguments) == 0 || p.PackageArguments[0] != (arg{Type: "positional", Value: "serve"}) {
			t.Errorf("package %d does not start nodediag serve: %+v", i, p.PackageArguments)
		}
		listen := ""
		for _, a := range p.PackageArguments[1:] {
			if a.Type != "named" || serve.Flags().Lookup(strings.TrimPrefix(a.Name, "--")) == nil {
				t.Errorf("package %d: argument %+v is not a flag of serve", i, a)
			}
			if a.Name == "--listen" {
				listen = a.Value
			}
		}
		switch p.Transport.Type {
		case "stdio":
			if listen != "" {
				t.Errorf("package %d: stdio with --listen", i)
			}
		case "streamable-http":
			u, err := url.Parse(p.Transport.URL)
			if err != nil || u.Host != listen || u.Path != "/mcp" {
				t.Errorf("package %d: url %q (%v) is not /mcp on --listen %q", i, p.Transport.URL, err, listen)
			}
			if len(p.Transport.Headers) != 1 || p.Transport.Headers[0].Name != "Authorization" || !strings.HasPrefix(p.Transport.Headers[0].Value, "Bearer ") {
				t.Errorf("package %d: headers %+v; want the bearer token serve requires", i, p.Transport.Headers)
			}
		default:
			t.Errorf("package %d: transport %q", i, p.Transport.Type)
		}
	}
	if !transports["stdio"] || !transports["streamable-http"] || len(s.Packages) != 2 {
		t.Errorf("transports %v: want one package for stdio, one for streamable-http", transports)
	}
}
