package mcpserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Caller names the server gives when no token file names the caller.
const (
	// DefaultCaller is the caller of a single bare token (a token file of one line without a
	// name, or HTTPOptions.Token).
	DefaultCaller = "default"
	// AnonymousCaller is every caller of a server without authentication (--insecure-no-auth).
	AnonymousCaller = "anonymous"
)

// callerNameRE is what a caller's name may be: it becomes a log attribute and a metric label,
// so it is short and plain.
var callerNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// caller is one token the server accepts, by its SHA-256 (digests all have the same length, so
// comparing them does not leak a token's length through timing), and the name it goes by.
type caller struct {
	name   string
	digest [sha256.Size]byte
}

// tokenTable is the callers of a server with authentication; nil means none is required.
type tokenTable []caller

// lookup returns the name of the caller whose token tok is. Every entry is compared, in
// constant time, so that the time taken says nothing of which one matched.
func (t tokenTable) lookup(tok string) (string, bool) {
	sum := sha256.Sum256([]byte(tok))
	name, found := "", 0
	for _, c := range t {
		if subtle.ConstantTimeCompare(sum[:], c.digest[:]) == 1 {
			name, found = c.name, 1
		}
	}
	return name, found == 1
}

// names lists the callers' names, in the file's order.
func (t tokenTable) names() []string {
	out := make([]string, len(t))
	for i, c := range t {
		out[i] = c.name
	}
	return out
}

// parseTokens reads a token file: one bare token (the whole file, as before names existed), or
// lines "name:token", one per caller, with blank lines and "#" comments allowed. what names the
// source in errors, which never quote a token.
func parseTokens(raw []byte, what string) (tokenTable, error) {
	var lines []int // indexes into all of the lines that hold something
	all := strings.Split(string(raw), "\n")
	for i, l := range all {
		l = strings.TrimSpace(l)
		all[i] = l
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, i)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%w: %s is empty: want at least %d bytes, e.g. from `openssl rand -hex 32`, or lines name:token", ErrConfig, what, MinTokenBytes)
	}
	if len(lines) == 1 && !strings.Contains(all[lines[0]], ":") {
		tok := all[lines[0]]
		if len(tok) < MinTokenBytes {
			return nil, fmt.Errorf("%w: %s is %d bytes: want at least %d, e.g. from `openssl rand -hex 32`", ErrConfig, what, len(tok), MinTokenBytes)
		}
		return tokenTable{{name: DefaultCaller, digest: sha256.Sum256([]byte(tok))}}, nil
	}
	var t tokenTable
	seenName, seenTok := map[string]int{}, map[[sha256.Size]byte]int{}
	for _, i := range lines {
		n := i + 1
		name, tok, ok := strings.Cut(all[i], ":")
		name, tok = strings.TrimSpace(name), strings.TrimSpace(tok)
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: %s line %d has no name: with several tokens every line is name:token", ErrConfig, what, n)
		case !callerNameRE.MatchString(name):
			return nil, fmt.Errorf("%w: %s line %d: the name before ':' must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrConfig, what, n)
		case len(tok) < MinTokenBytes:
			return nil, fmt.Errorf("%w: %s line %d (%s): the token is %d bytes: want at least %d, e.g. from `openssl rand -hex 32`", ErrConfig, what, n, name, len(tok), MinTokenBytes)
		case seenName[name] != 0:
			return nil, fmt.Errorf("%w: %s lines %d and %d both name %s: give each caller one name", ErrConfig, what, seenName[name], n, name)
		}
		d := sha256.Sum256([]byte(tok))
		if prev := seenTok[d]; prev != 0 {
			return nil, fmt.Errorf("%w: %s lines %d and %d hold the same token: the logs could not tell the two callers apart", ErrConfig, what, prev, n)
		}
		seenName[name], seenTok[d] = n, n
		t = append(t, caller{name: name, digest: d})
	}
	return t, nil
}

// tokens returns the callers the options allow, or nil in insecure mode.
func (o HTTPOptions) tokens() (tokenTable, error) {
	set := 0
	for _, b := range []bool{len(o.Token) > 0, o.TokenFile != "", o.InsecureNoAuth} {
		if b {
			set++
		}
	}
	switch {
	case set == 0:
		return nil, fmt.Errorf("%w: the HTTP server needs a bearer token: give --auth-token-file FILE "+
			"(or --insecure-no-auth on a loopback address)", ErrConfig)
	case set > 1:
		return nil, fmt.Errorf("%w: give one of a token, --auth-token-file and --insecure-no-auth, not several", ErrConfig)
	}
	if o.InsecureNoAuth {
		if !loopbackAddr(o.Addr) {
			return nil, fmt.Errorf("%w: --insecure-no-auth is only allowed on a loopback address (127.0.0.0/8, ::1, localhost), "+
				"not %q: anyone who can reach it could read the node logs; use --auth-token-file", ErrConfig, o.Addr)
		}
		o.Logger.Warn("serving MCP over HTTP without authentication (loopback only)", "addr", o.Addr)
		return nil, nil
	}
	if o.TokenFile == "" {
		tok := bytes.TrimRight(o.Token, " \t\r\n")
		if len(tok) < MinTokenBytes {
			return nil, fmt.Errorf("%w: the token is %d bytes: want at least %d, e.g. from `openssl rand -hex 32`", ErrConfig, len(tok), MinTokenBytes)
		}
		return tokenTable{{name: DefaultCaller, digest: sha256.Sum256(tok)}}, nil
	}
	raw, err := os.ReadFile(o.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("%w: reading --auth-token-file: %w", ErrConfig, err)
	}
	if fi, err := os.Stat(o.TokenFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
		o.Logger.Warn("the auth token file is readable by group or others; chmod 600 it",
			"file", o.TokenFile, "mode", fi.Mode().Perm().String())
	}
	return parseTokens(raw, "the token file "+o.TokenFile)
}

// callerKey holds, in a request's context, the name of the caller its token belongs to.
type callerKey struct{}

// callerOf is the name of the caller of an authenticated HTTP request.
func callerOf(ctx context.Context) string {
	if name, ok := ctx.Value(callerKey{}).(string); ok {
		return name
	}
	return AnonymousCaller
}

// withTokenInfo hands the caller's name to the SDK as the request's auth.TokenInfo. The SDK
// then carries it to the tool middleware (the metrics and the log of each call name the caller)
// and binds each session to the caller that opened it: another caller's token gets 403 with
// that session's id, so one caller cannot act under another's name.
func withTokenInfo(next http.Handler) http.Handler {
	return auth.RequireBearerToken(func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		name, ok := ctx.Value(callerKey{}).(string)
		if !ok {
			return nil, auth.ErrInvalidToken // h.auth let the request through without a caller: never
		}
		return &auth.TokenInfo{UserID: name}, nil
	}, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(next)
}

// toolCaller is the caller of a tools/call as the SDK hands it to middleware.
func toolCaller(req mcp.Request) string {
	if extra := req.GetExtra(); extra != nil && extra.TokenInfo != nil && extra.TokenInfo.UserID != "" {
		return extra.TokenInfo.UserID
	}
	return AnonymousCaller
}
