package mcpserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// StdioTransport is the transport of `serve` without --listen: newline-delimited JSON-RPC on r
// and w, as mcp.IOTransport speaks it, with one difference. The SDK's reader stops at the first
// message it cannot decode — a line over its 16 MiB cap, a line that is not JSON, JSON that is
// not JSON-RPC, a batch once the protocol version has none — and the session, and so `serve`,
// ends with it. Here each line is checked before the SDK sees it: one over maxBytes, or one the
// SDK could not take, is dropped and logged, and when its id can be read the client gets a
// JSON-RPC error answer for it; the server goes on to the next line.
func StdioTransport(r io.Reader, w io.Writer, maxBytes int64, log *slog.Logger) mcp.Transport {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := &lockedWriter{w: w}
	in := &lineGuard{src: bufio.NewReaderSize(r, 64<<10), max: int(maxBytes), out: out, log: log}
	// The guard bounds every line, so the SDK's own cap (whose count also takes in what its
	// decoder reads ahead) is not needed.
	return &mcp.IOTransport{Reader: io.NopCloser(in), Writer: out, MaxLineLength: -1}
}

// lockedWriter serialises whole messages: the SDK writes each one with a single Write under its
// own lock, and the guard's error answers must not land in the middle of one.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) Close() error { return nil } // stdout belongs to the process

// idHeadBytes is how much of a dropped line is kept to find its id: clients write "id" before
// "params", so it is near the start even of a huge message.
const idHeadBytes = 64 << 10

// lineGuard hands the SDK only lines it can decode, each at most max bytes.
type lineGuard struct {
	src  *bufio.Reader
	max  int
	out  io.Writer
	log  *slog.Logger
	line []byte // the line being read (at most max bytes of it)
	pend []byte // what is left of the last good line, for the SDK to read
	err  error  // the source's error, once it has one
	// version is the protocol version the client's initialize asked for.
	version string
}

func (g *lineGuard) Read(p []byte) (int, error) {
	for len(g.pend) == 0 {
		if g.err != nil {
			return 0, g.err
		}
		g.next()
	}
	n := copy(p, g.pend)
	g.pend = g.pend[n:]
	return n, nil
}

// next reads one line: a good one goes to pend (trimmed, with its newline), a bad one is
// dropped.
func (g *lineGuard) next() {
	g.line = g.line[:0]
	size, over, newline := 0, false, false
	for {
		chunk, err := g.src.ReadSlice('\n')
		size += len(chunk)
		newline = len(chunk) > 0 && chunk[len(chunk)-1] == '\n'
		switch {
		case over:
		case len(g.line)+len(chunk) > g.max+1: // +1: the newline is not part of the message
			over = true
			if keep := min(idHeadBytes, g.max) - len(g.line); keep > 0 {
				g.line = append(g.line, chunk[:min(keep, len(chunk))]...)
			}
		default:
			g.line = append(g.line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // the line goes on
		}
		if err != nil {
			g.err = err
		}
		break
	}
	if newline {
		size--
	}
	if over || size > g.max {
		g.reject(g.line, jsonrpc.CodeInvalidRequest, fmt.Sprintf("a message of %d bytes is over this server's limit of %d bytes "+
			"per message (serve --max-body-bytes), and was dropped", size, g.max))
		return
	}
	msg := bytes.TrimSpace(g.line)
	if len(msg) == 0 {
		return
	}
	msgs, batch, code, err := decode(msg)
	if err != nil {
		g.reject(msg, code, fmt.Sprintf("a message was dropped: %v", err))
		return
	}
	if batch && g.version >= batchlessVersion {
		// The SDK ends the session on a batch once the protocol has none; answer each request
		// of it instead.
		why := fmt.Sprintf("a batch of %d messages was dropped: protocol version %s has no JSON-RPC batches; send one message per line", len(msgs), g.version)
		g.log.Error("dropped a message on stdin", "why", why)
		for _, m := range msgs {
			if r, ok := m.(*jsonrpc.Request); ok && r.ID.IsValid() {
				g.answer(r.ID, jsonrpc.CodeInvalidRequest, why)
			}
		}
		return
	}
	if r, ok := msgs[0].(*jsonrpc.Request); ok && !batch && r.Method == "initialize" {
		var p struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		if json.Unmarshal(r.Params, &p) == nil {
			g.version = p.ProtocolVersion
		}
	}
	g.pend = append(msg, '\n')
}

// batchlessVersion is the first MCP protocol version without JSON-RPC batches.
const batchlessVersion = "2025-06-18"

// decode decodes msg as the SDK will: one JSON-RPC message, or a batch of them.
func decode(msg []byte) (msgs []jsonrpc.Message, batch bool, code int64, err error) {
	if !json.Valid(msg) {
		return nil, false, jsonrpc.CodeParseError, errors.New("it is not valid JSON")
	}
	if msg[0] == '[' {
		var raw []json.RawMessage
		if err := json.Unmarshal(msg, &raw); err != nil || len(raw) == 0 {
			return nil, true, jsonrpc.CodeInvalidRequest, errors.New("it is an empty or malformed batch")
		}
		for _, r := range raw {
			m, err := jsonrpc.DecodeMessage(r)
			if err != nil {
				return nil, true, jsonrpc.CodeInvalidRequest, fmt.Errorf("a message of the batch is not JSON-RPC 2.0: %v", err)
			}
			msgs = append(msgs, m)
		}
		return msgs, true, 0, nil
	}
	m, err := jsonrpc.DecodeMessage(msg)
	if err != nil {
		return nil, false, jsonrpc.CodeInvalidRequest, fmt.Errorf("it is not a JSON-RPC 2.0 message: %v", err)
	}
	return []jsonrpc.Message{m}, false, 0, nil
}

// reject logs a dropped line and, when its id can be read from head, answers the request with
// an error. Without an id there is no one to answer: JSON-RPC's answer with a null id would
// itself be undecodable to the SDK's client, ending its session.
func (g *lineGuard) reject(head []byte, code int64, why string) {
	id, ok := idOf(head)
	g.log.Error("dropped a message on stdin", "why", why, "id", id.Raw(), "answered", ok)
	if ok {
		g.answer(id, code, why)
	}
}

// answer writes a JSON-RPC error answer to the request with id.
func (g *lineGuard) answer(id jsonrpc.ID, code int64, why string) {
	data, err := jsonrpc.EncodeMessage(&jsonrpc.Response{ID: id, Error: &jsonrpc.Error{Code: code, Message: why}})
	if err != nil {
		return
	}
	_, _ = g.out.Write(append(data, '\n'))
}

// idOf reads the "id" of a JSON-RPC request from the start of its text, which may be cut
// anywhere: it walks the top-level object's members until "id", and gives up at the first one
// it cannot read whole.
func idOf(head []byte) (jsonrpc.ID, bool) {
	dec := json.NewDecoder(bytes.NewReader(head))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return jsonrpc.ID{}, false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return jsonrpc.ID{}, false
		}
		if key == "id" {
			var v any
			if err := dec.Decode(&v); err != nil || v == nil {
				return jsonrpc.ID{}, false
			}
			id, err := jsonrpc.MakeID(v)
			return id, err == nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return jsonrpc.ID{}, false
		}
	}
	return jsonrpc.ID{}, false
}
