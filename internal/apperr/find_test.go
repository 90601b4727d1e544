package apperr

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func joinLines(l ...string) string { return strings.Join(l, "\n") + "\n" }

// infoLines returns n info-level lines, the ordinary activity of a healthy process.
func infoLines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("2026-11-20 10:01:%02d,000 INFO app: served request %d", i%60, i)
	}
	return out
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var pyConfigCrash = []string{
	"Traceback (most recent call last):",
	`  File "/app/main.py", line 22, in <module>`,
	"    cfg = load()",
	`  File "/app/config.py", line 9, in load`,
	"    return Settings(**yaml.safe_load(f))",
	"TypeError: Settings.__init__() missing 1 required positional argument: 'dsn'",
}

var pyHandled = []string{
	"2026-11-20 10:00:01,000 ERROR app: payment sync failed, retrying",
	"Traceback (most recent call last):",
	`  File "/app/sync.py", line 40, in sync`,
	"    client.post(batch)",
	"ConnectionResetError: [Errno 104] Connection reset by peer",
}

// The traps of issue 12 and the shapes the brief lists, written by hand: each case says what a
// reader of the log would cite.
func TestFindTraps(t *testing.T) {
	cases := []struct {
		name       string
		log        string
		runtime    string
		recognised bool
		summary    []string // substrings Summary must contain
		notSummary []string // substrings it must not
		cite       []int
		notCite    []int
		texts      map[int]string // exact text of cited lines
		nLines     int            // when > 0, the exact number of lines
	}{
		{
			name: "warning after the traceback",
			log: joinLines(append([]string{"2026-11-20 10:00:00,000 INFO app: starting"},
				"Traceback (most recent call last):",
				`  File "/app/main.py", line 10, in <module>`,
				"    main()",
				`  File "/app/main.py", line 6, in main`,
				`    port = int(os.environ["PORT"])`,
				"ValueError: invalid literal for int() with base 10: 'abc'",
				"WARNING: shutting down worker pool")...),
			runtime: Python, recognised: true,
			summary: []string{"ValueError: invalid literal for int() with base 10: 'abc'"},
			cite:    []int{2, 5, 7}, notCite: []int{8},
		},
		{
			name: "Background on this error link under the exception",
			log: joinLines(
				"Traceback (most recent call last):",
				`  File "/app/db.py", line 12, in connect`,
				"    engine.connect()",
				`  File "/usr/local/lib/python3.11/site-packages/sqlalchemy/engine/base.py", line 3268, in connect`,
				"    return self._connection_cls(self)",
				"sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not connect to server: Connection refused",
				"\tIs the server running on host \"db\" (10.0.0.5) and accepting",
				"\tTCP/IP connections on port 5432?",
				"",
				"(Background on this error at: https://sqlalche.me/e/20/e3q8)"),
			runtime: Python, recognised: true,
			summary:    []string{"sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not connect to server: Connection refused"},
			notSummary: []string{"Background"},
			cite:       []int{1, 2, 6}, notCite: []int{4, 10},
		},
		{
			name:    "handled exception logged long before the one that ended the process",
			log:     joinLines(concat(pyHandled, infoLines(15), pyConfigCrash)...),
			runtime: Python, recognised: true,
			summary: []string{"TypeError: Settings.__init__() missing 1 required positional argument: 'dsn'"},
			cite:    []int{21, 26, 24}, notCite: []int{2, 5},
		},
		{
			name: "handled traceback, then a fatal structured line",
			log: joinLines(concat(pyHandled, []string{
				`{"level":"info","ts":"2026-11-20T10:00:02Z","msg":"sync retried"}`,
				`{"level":"fatal","ts":"2026-11-20T10:00:03Z","msg":"cannot open queue","error":"permission denied"}`})...),
			runtime: Structured, recognised: true,
			summary: []string{"cannot open queue: permission denied"},
			cite:    []int{7}, notCite: []int{5},
		},
		{
			name:    "traceback followed by long activity, then an error line",
			log:     joinLines(concat(pyHandled, infoLines(12), []string{"2026-11-20 10:02:00,000 ERROR app: lost leadership, exiting"})...),
			runtime: Text, recognised: true,
			summary: []string{"lost leadership, exiting"},
			cite:    []int{18}, notCite: []int{5},
		},
		{
			name:    "traceback followed by a few lines, then an error line",
			log:     joinLines(concat(pyConfigCrash, infoLines(2), []string{"2026-11-20 10:02:00,000 ERROR app: worker exited"})...),
			runtime: Python, recognised: true,
			summary: []string{"TypeError: Settings.__init__()"},
			cite:    []int{6}, notCite: []int{9},
		},
		{
			name: "only info lines",
			log: joinLines(
				"INFO starting server",
				"INFO listening on :8080",
				"",
				"INFO received SIGTERM, shutting down",
				""),
			recognised: false,
			cite:       []int{1, 2, 4}, nLines: 3,
		},
		{
			name: "info and warning JSON lines",
			log: joinLines(
				`{"level":"info","msg":"starting"}`,
				`{"level":"warn","msg":"slow query","error":"deadline exceeded"}`),
			recognised: false,
			cite:       []int{1, 2}, nLines: 2,
		},
		{
			name: "CRI lines with P partials",
			log: joinLines(
				"2026-11-20T10:00:00.000000001Z stdout F starting",
				"2026-11-20T10:00:00.100000000Z stderr P Traceback (most recent ",
				"2026-11-20T10:00:00.100000001Z stderr F call last):",
				`2026-11-20T10:00:00.100000002Z stderr F   File "/app/main.py", line 3, in <module>`,
				`2026-11-20T10:00:00.100000003Z stderr F     raise RuntimeError("boom")`,
				"2026-11-20T10:00:00.100000004Z stderr P RuntimeError: bo",
				"2026-11-20T10:00:00.100000005Z stderr P o",
				"2026-11-20T10:00:00.100000006Z stderr F m"),
			runtime: Python, recognised: true,
			summary: []string{"RuntimeError: boom"},
			cite:    []int{2, 4, 6},
			texts: map[int]string{
				2: "Traceback (most recent call last):",
				4: `  File "/app/main.py", line 3, in <module>`,
				6: "RuntimeError: boom",
			},
		},
		{
			name: "CRI partial of one stream around the other stream's lines",
			log: joinLines(
				"2026-11-20T10:00:00.000000001Z stdout P {\"level\":\"fatal\",",
				"2026-11-20T10:00:00.000000002Z stderr F plain stderr line",
				`2026-11-20T10:00:00.000000003Z stdout F "msg":"bad config","error":"missing key"}`),
			runtime: Structured, recognised: true,
			summary: []string{"bad config: missing key"},
			cite:    []int{1},
			texts:   map[int]string{1: `{"level":"fatal","msg":"bad config","error":"missing key"}`},
		},
		{
			name: "Java chain of three causes",
			log: joinLines(
				`Exception in thread "main" org.example.app.StartupException: could not start`,
				"\tat org.example.app.Main.start(Main.java:40)",
				"\tat org.example.app.Main.main(Main.java:12)",
				"Caused by: org.example.app.ConfigException: cannot load /etc/app/app.yaml",
				"\tat org.example.app.Config.load(Config.java:77)",
				"\t... 2 more",
				"Caused by: java.io.UncheckedIOException: read failed",
				"\tat java.base/java.nio.file.Files.readAllLines(Files.java:3288)",
				"\t... 3 more",
				"Caused by: java.nio.file.AccessDeniedException: /etc/app/app.yaml",
				"\tat java.base/sun.nio.fs.UnixException.translateToIOException(UnixException.java:90)",
				"\t... 5 more"),
			runtime: Java, recognised: true,
			summary: []string{"java.nio.file.AccessDeniedException: /etc/app/app.yaml (root cause of org.example.app.StartupException: could not start)"},
			cite:    []int{1, 2, 4, 7, 10}, notCite: []int{5, 8, 11},
		},
		{
			name: "Java exception logged as a warning is one the process survived",
			log: joinLines(
				"2026-11-20 10:00:00.000  WARN 1 --- [main] c.e.Client : connection lost, retrying",
				"java.net.ConnectException: Connection refused",
				"\tat java.base/sun.nio.ch.Net.connect0(Native Method)",
				"2026-11-20 10:00:05.000  INFO 1 --- [main] c.e.Client : reconnected"),
			recognised: false,
			cite:       []int{2, 3, 4}, nLines: 3,
		},
		{
			name: "Python chain: during handling, then direct cause",
			log: joinLines(
				"Traceback (most recent call last):",
				`  File "/app/settings.py", line 4, in <module>`,
				`    SECRET = os.environ["SECRET_KEY"]`,
				"KeyError: 'SECRET_KEY'",
				"",
				"During handling of the above exception, another exception occurred:",
				"",
				"Traceback (most recent call last):",
				`  File "/app/settings.py", line 6, in <module>`,
				`    raise ConfigError("SECRET_KEY is not set")`,
				"app.errors.ConfigError: SECRET_KEY is not set",
				"",
				"The above exception was the direct cause of the following exception:",
				"",
				"Traceback (most recent call last):",
				`  File "/app/main.py", line 3, in <module>`,
				"    import settings",
				"SystemExit: 2"),
			runtime: Python, recognised: true,
			summary: []string{"SystemExit: 2 (during handling of KeyError: 'SECRET_KEY'; caused by app.errors.ConfigError: SECRET_KEY is not set)"},
			cite:    []int{4, 11, 15, 18, 16},
		},
		{
			name: "traceback a logger printed as a warning",
			log: joinLines(
				"WARNING:root:cache refresh failed, serving stale data",
				"Traceback (most recent call last):",
				`  File "/app/cache.py", line 18, in refresh`,
				"    data = fetch()",
				"TimeoutError: timed out",
				"INFO:root:request served"),
			recognised: false,
			cite:       []int{4, 5, 6}, nLines: 3,
		},
		{
			name: "Python exception without a message",
			log: joinLines(
				"Traceback (most recent call last):",
				`  File "/app/worker.py", line 30, in run`,
				"    job = next(jobs)",
				"StopIteration"),
			runtime: Python, recognised: true,
			summary: []string{"StopIteration"},
			cite:    []int{1, 2, 4},
		},
		{
			name: "Python traceback cut before its exception line",
			log: joinLines(
				"Traceback (most recent call last):",
				`  File "/app/worker.py", line 30, in run`,
				"    job = next(jobs)",
				"Killed"),
			recognised: false,
			cite:       []int{2, 3, 4},
		},
		{
			name:    "kubectl logs --prefix",
			log:     joinLines("[pod/api-7d9/api] Traceback (most recent call last):", `[pod/api-7d9/api]   File "/app/main.py", line 1, in <module>`, "[pod/api-7d9/api]     import missing", "[pod/api-7d9/api] ModuleNotFoundError: No module named 'missing'"),
			runtime: Python, recognised: true,
			summary: []string{"ModuleNotFoundError: No module named 'missing'"},
			cite:    []int{1, 2, 4},
			texts:   map[int]string{4: "[pod/api-7d9/api] ModuleNotFoundError: No module named 'missing'"},
		},
		{
			name: "fatal structured line beats a later error line",
			log: joinLines(
				`{"level":"fatal","ts":1732096800.1,"msg":"failed to bind","error":"listen tcp :8080: bind: address already in use"}`,
				`{"level":"error","ts":1732096800.2,"msg":"flush failed"}`),
			runtime: Structured, recognised: true,
			summary: []string{"failed to bind: listen tcp :8080: bind: address already in use"},
			cite:    []int{1}, notCite: []int{2},
		},
		{
			name:    "pino numeric level",
			log:     joinLines(`{"level":30,"time":1,"msg":"listening"}`, `{"level":60,"time":2,"msg":"uncaught","err":{"type":"Error"}}`),
			runtime: Structured, recognised: true,
			summary: []string{"uncaught"},
			cite:    []int{2},
		},
		{
			name:    "logfmt fatal, then info",
			log:     joinLines(`time="2026-11-20T10:00:00Z" level=info msg="starting"`, `time="2026-11-20T10:00:01Z" level=fatal msg="cannot read token" error="open /var/run/secrets/token: no such file or directory"`, `time="2026-11-20T10:00:01Z" level=info msg="bye"`),
			runtime: Structured, recognised: true,
			summary: []string{"cannot read token: open /var/run/secrets/token: no such file or directory"},
			cite:    []int{2},
		},
		{
			name:    "severity CRITICAL",
			log:     joinLines(`{"severity":"INFO","message":"boot"}`, `{"severity":"CRITICAL","message":"database unreachable"}`),
			runtime: Structured, recognised: true,
			summary: []string{"database unreachable"},
			cite:    []int{2},
		},
		{
			name:    "Go log.Fatal as the last line",
			log:     joinLines("2026/11/20 10:00:00 loading config from /etc/app.yaml", "2026/11/20 10:00:00 open /etc/app.yaml: no such file or directory"),
			runtime: Go, recognised: true,
			summary: []string{"open /etc/app.yaml: no such file or directory"},
			cite:    []int{2}, notCite: []int{1},
		},
		{
			name:    "klog fatal",
			log:     joinLines("I1120 10:00:00.000000       1 main.go:40] starting", "F1120 10:00:00.100000       1 main.go:52] failed to load kubeconfig: open /root/.kube/config: no such file or directory"),
			runtime: Go, recognised: true,
			summary: []string{"failed to load kubeconfig"},
			cite:    []int{2},
		},
		{
			name: "Go panic re-raised after recover",
			log: joinLines(
				"panic: assignment to entry in nil map [recovered]",
				"\tpanic: assignment to entry in nil map",
				"",
				"goroutine 7 [running]:",
				"main.handle.func1()",
				"\t/src/main.go:20 +0x1c",
				"panic({0x4a1b20, 0x51c7d0})",
				"\t/usr/local/go/src/runtime/panic.go:884 +0x213",
				"main.handle(0xc000012345)",
				"\t/src/main.go:25 +0x45",
				"created by main.main",
				"\t/src/main.go:12 +0x9a"),
			runtime: Go, recognised: true,
			summary:    []string{"panic: assignment to entry in nil map"},
			notSummary: []string{"[recovered]"},
			cite:       []int{1, 4, 9, 10}, notCite: []int{5},
		},
		{
			name:    "Rust new panic form",
			log:     joinLines("thread 'main' panicked at src/main.rs:5:5:", "index out of bounds: the len is 3 but the index is 7", "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"),
			runtime: Rust, recognised: true,
			summary: []string{"thread 'main' panicked at src/main.rs:5:5: index out of bounds: the len is 3 but the index is 7"},
			cite:    []int{1, 2}, notCite: []int{3},
		},
		{
			name:    "Rust main returning an error",
			log:     joinLines("loading /data/app.db", `Error: Os { code: 2, kind: NotFound, message: "No such file or directory" }`),
			runtime: Rust, recognised: true,
			summary: []string{`Error: Os { code: 2, kind: NotFound`},
			cite:    []int{2},
		},
		{
			name:    "Rust anyhow error with causes",
			log:     joinLines("Error: failed to load configuration", "", "Caused by:", "    0: reading /etc/app/config.toml", "    1: No such file or directory (os error 2)"),
			runtime: Rust, recognised: true,
			summary: []string{"Error: failed to load configuration (caused by: 0: reading /etc/app/config.toml)"},
			cite:    []int{1, 4},
		},
		{
			name:    "cobra command error",
			log:     joinLines("I1120 10:00:00.000000       1 root.go:40] starting operator", `Error: unable to load kubeconfig: invalid configuration: no configuration has been provided`),
			runtime: Go, recognised: true,
			summary: []string{"Error: unable to load kubeconfig"},
			cite:    []int{2},
		},
		{
			name: ".NET unhandled exception with an inner exception",
			log: joinLines(
				"Unhandled exception. System.InvalidOperationException: Unable to start host",
				" ---> System.Net.Sockets.SocketException (111): Connection refused",
				"   at System.Net.Sockets.Socket.Connect(EndPoint remoteEP)",
				"   at Shop.Api.Program.Connect() in /src/Shop.Api/Program.cs:line 21",
				"   --- End of inner exception stack trace ---",
				"   at Shop.Api.Program.Main(String[] args) in /src/Shop.Api/Program.cs:line 25"),
			runtime: DotNet, recognised: true,
			summary: []string{"System.Net.Sockets.SocketException (111): Connection refused (root cause of System.InvalidOperationException: Unable to start host)"},
			cite:    []int{1, 2, 4}, notCite: []int{3},
		},
		{
			name:    "Ruby 3.4 quotes",
			log:     joinLines("app.rb:12:in 'Integer#/': divided by 0 (ZeroDivisionError)", "\tfrom app.rb:12:in '<main>'"),
			runtime: Ruby, recognised: true,
			summary: []string{"ZeroDivisionError: divided by 0"},
			cite:    []int{1},
		},
		{
			name: "Node.js error with frames and no throw site",
			log: joinLines(
				"server listening on 3000",
				"TypeError: Cannot read properties of undefined (reading 'map')",
				"    at render (/app/src/render.js:14:22)",
				"    at /app/node_modules/express/lib/router/layer.js:95:5"),
			runtime: Node, recognised: true,
			summary: []string{"TypeError: Cannot read properties of undefined (reading 'map')"},
			cite:    []int{2, 3}, notCite: []int{4},
		},
		{
			name: "set -e stops a traced script",
			log: joinLines(
				"+ echo migrating",
				"migrating",
				"+ ./manage.py migrate --noinput",
				`psql: error: connection to server at "db" (10.0.0.7), port 5432 failed: Connection refused`),
			runtime: Shell, recognised: true,
			summary: []string{"./manage.py migrate --noinput", "Connection refused"},
			cite:    []int{3, 4}, notCite: []int{1},
		},
		{
			name:    "bash command not found",
			log:     joinLines("starting", "/docker-entrypoint.sh: line 7: gosu: command not found"),
			runtime: Shell, recognised: true,
			summary: []string{"/docker-entrypoint.sh: line 7: gosu: command not found"},
			cite:    []int{2},
		},
		{
			name:    "exec format error",
			log:     joinLines("exec /usr/local/bin/app: exec format error"),
			runtime: Shell, recognised: true,
			summary: []string{"exec /usr/local/bin/app: exec format error"},
			cite:    []int{1},
		},
		{
			name:       "a word ending in sh is not a shell",
			log:        joinLines("publish: topic: not found", "INFO done"),
			recognised: false,
			cite:       []int{1, 2},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Find(c.log)
			if got.Runtime != c.runtime || got.Recognised != c.recognised {
				t.Errorf("runtime %q recognised %v, want %q %v (summary %q, lines %v)", got.Runtime, got.Recognised, c.runtime, c.recognised, got.Summary, got.Lines)
			}
			for _, s := range c.summary {
				if !strings.Contains(got.Summary, s) {
					t.Errorf("summary %q lacks %q", got.Summary, s)
				}
			}
			for _, s := range c.notSummary {
				if strings.Contains(got.Summary, s) {
					t.Errorf("summary %q contains %q", got.Summary, s)
				}
			}
			cited := map[int]string{}
			for _, l := range got.Lines {
				cited[l.No] = l.Text
			}
			for _, n := range c.cite {
				if _, ok := cited[n]; !ok {
					t.Errorf("line %d not cited: %v", n, got.Lines)
				}
			}
			for _, n := range c.notCite {
				if _, ok := cited[n]; ok {
					t.Errorf("line %d cited: %v", n, got.Lines)
				}
			}
			for n, want := range c.texts {
				if cited[n] != want {
					t.Errorf("line %d text %q, want %q", n, cited[n], want)
				}
			}
			if c.nLines > 0 && len(got.Lines) != c.nLines {
				t.Errorf("%d lines, want %d: %v", len(got.Lines), c.nLines, got.Lines)
			}
			for i := 1; i < len(got.Lines); i++ {
				if got.Lines[i].No <= got.Lines[i-1].No {
					t.Errorf("lines not in log order: %v", got.Lines)
				}
			}
		})
	}
}

// A long chain cites at most MaxLines lines, keeping the top exception and the root cause.
func TestFindCapsLines(t *testing.T) {
	l := []string{`Exception in thread "main" org.example.A0: top`}
	for i := 1; i <= 12; i++ {
		l = append(l, fmt.Sprintf("Caused by: org.example.A%d: level %d", i, i), "\tat org.example.X.m(X.java:1)")
	}
	got := Find(joinLines(l...))
	if len(got.Lines) > MaxLines {
		t.Fatalf("%d lines cited, at most %d", len(got.Lines), MaxLines)
	}
	if got.Lines[0].No != 1 || !strings.Contains(got.Summary, "org.example.A12: level 12") {
		t.Errorf("top or root cause missing: %q %v", got.Summary, got.Lines)
	}
	found := false
	for _, ln := range got.Lines {
		found = found || ln.No == 24
	}
	if !found {
		t.Errorf("root cause line 24 not cited: %v", got.Lines)
	}
}

// A cited line or summary longer than the cap is cut, on a rune boundary, and says so.
func TestFindClipsLongLines(t *testing.T) {
	long := `{"level":"fatal","msg":"` + strings.Repeat("é", 600) + `"}`
	got := Find(long + "\n")
	if !got.Recognised || len(got.Lines) != 1 {
		t.Fatalf("got %+v", got)
	}
	for _, s := range []string{got.Lines[0].Text, got.Summary} {
		head, cut := strings.CutSuffix(s, "…")
		if !cut || len(head) > maxText || !utf8.ValidString(s) {
			t.Errorf("not clipped cleanly: %d bytes, ends %q", len(s), s[len(s)-8:])
		}
	}
	if !strings.HasPrefix(long, got.Lines[0].Text[:len(got.Lines[0].Text)-len("…")]) {
		t.Errorf("cited text is not the line's beginning")
	}
}

func TestFindEmpty(t *testing.T) {
	for _, log := range []string{"", "\n\n", "   \n"} {
		got := Find(log)
		if got.Recognised || len(got.Lines) != 0 || got.Runtime != "" {
			t.Errorf("Find(%q) = %+v, want nothing", log, got)
		}
	}
}
