package mcpserver

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// originPolicy decides which browser origins may call the HTTP server. The MCP transport
// specification asks servers to validate Origin: a web page the user visits can make the
// browser send requests to a server on localhost or the intranet (DNS rebinding turns the page's
// own host name into that address), and the browser adds the Origin of the page. A request
// without Origin does not come from a web page (MCP clients, curl, Prometheus) and passes.
type originPolicy struct {
	any   bool            // "*": every origin, knowingly
	exact map[string]bool // normalised origins of --allowed-origins
}

// parseOrigins reads --allowed-origins: exact origins (scheme://host[:port]) and "*". Loopback
// origins (http or https on localhost, 127.0.0.0/8 or ::1, any port) are always allowed: such a
// page is served by this machine, not by a remote attacker, and rebinding cannot give an
// attacker's page one of them.
func parseOrigins(list []string) (originPolicy, error) {
	p := originPolicy{exact: map[string]bool{}}
	for _, o := range list {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			p.any = true
			continue
		}
		n, err := normalizeOrigin(o)
		if err != nil {
			return p, fmt.Errorf("%w: --allowed-origins %q: %v; want an origin as a browser sends it, e.g. https://app.example.com or http://10.0.0.5:3000, or * to allow every origin",
				ErrConfig, o, err)
		}
		p.exact[n] = true
	}
	return p, nil
}

// normalizeOrigin lower-cases scheme and host and drops a default port, as browsers write an
// Origin header, so that the flag's "https://App.example.com:443" matches "https://app.example.com".
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil {
		return "", err
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("an origin is scheme://host[:port] with no user, path, query or fragment")
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

// allows says whether a request with this Origin header value may be served; "" (no header)
// always may.
func (p originPolicy) allows(origin string) bool {
	if origin == "" || p.any {
		return true
	}
	n, err := normalizeOrigin(origin)
	if err != nil {
		return false // "null" (sandboxed frames, file:) and anything unparsable
	}
	if p.exact[n] {
		return true
	}
	u, _ := url.Parse(n)
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// describe lists what the policy allows, for the 403 answer.
func (p originPolicy) describe() string {
	allowed := []string{"http(s)://localhost, 127.0.0.1 and [::1] on any port"}
	exact := make([]string, 0, len(p.exact))
	for o := range p.exact {
		exact = append(exact, o)
	}
	slices.Sort(exact)
	return strings.Join(append(allowed, exact...), ", ")
}

// checkOrigin answers 403 to a request whose Origin the policy refuses.
func (h *httpHandler) checkOrigin(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if h.origins.allows(origin) {
		return true
	}
	h.opts.Logger.Warn("refused an HTTP request from a browser origin not allowed", "origin", origin, "remote", r.RemoteAddr, "path", r.URL.Path)
	writeJSONError(w, http.StatusForbidden, "origin_not_allowed",
		fmt.Sprintf("Origin %q is not allowed to call this server (allowed: %s); the server's operator adds origins with --allowed-origins",
			origin, h.origins.describe()))
	return false
}
