package apperr

import (
	"regexp"
	"strings"
)

// javaType finds a fully qualified exception class in a line.
var javaType = regexp.MustCompile(`(?:^|[\s:("'])((?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable|Failure|Fault))\b(?::\s?(.*))?`)

const javaThreadLead = `Exception in thread "`

// parseJavaThread reads the JVM's report of an uncaught exception: `Exception in thread "main"
// java.lang.IllegalStateException: msg`, its frames and its Caused-by chain.
func parseJavaThread(recs []record, i, from int) (block, int, bool) {
	t := recs[i].text
	at := strings.Index(t, javaThreadLead)
	if at < 0 {
		return block{}, 0, false
	}
	rest := t[at+len(javaThreadLead):]
	q := strings.IndexByte(rest, '"')
	if q < 0 {
		return block{}, 0, false
	}
	b, next := javaStack(recs, i)
	b.thread = rest[:q]
	if b.summary == "" {
		b.summary = strings.TrimSpace(rest[q+1:])
	}
	return b, next, true
}

// parseJavaOOM reads a bare OutOfMemoryError line: the JVM often has no stack left to print.
func parseJavaOOM(recs []record, i, from int) (block, int, bool) {
	t := recs[i].text
	if !strings.Contains(t, "java.lang.OutOfMemoryError") || warnLed(recs, i, from) {
		return block{}, 0, false
	}
	b, next := javaStack(recs, i)
	return b, next, true
}

// javaStack reads an exception line at recs[h] and the stack under it: "at" frames, "... N
// more", "Caused by:" and "Suppressed:" sections. A line or two that wrap a long message may
// sit between them.
func javaStack(recs []record, h int) (block, int) {
	b := block{runtime: Java, kind: kindCrash, first: h, cite: []int{h}}
	top := javaExcText(recs[h].text)
	var causes []int
	var topFrames []int
	k := h + 1
	for ; k < len(recs); k++ {
		t := strings.TrimSpace(recs[k].text)
		switch {
		case strings.HasPrefix(t, "at "):
			if len(causes) == 0 {
				topFrames = append(topFrames, k)
			}
		case strings.HasPrefix(t, "Caused by: "):
			causes = append(causes, k)
		case javaElided(t), strings.HasPrefix(t, "Suppressed: "):
		case t != "" && !javaHead(t) && k+1 < len(recs) && javaStackLine(recs[k+1].text):
			// a wrapped message line
		default:
			b.last = k - 1
			return javaSummary(recs, b, top, causes, topFrames), k
		}
	}
	b.last = k - 1
	return javaSummary(recs, b, top, causes, topFrames), k
}

// javaHead reports whether t starts a new exception report rather than continuing a message.
func javaHead(t string) bool {
	if strings.Contains(t, javaThreadLead) {
		return true
	}
	m := javaType.FindStringIndex(t)
	return m != nil && m[0] == 0
}

func javaElided(t string) bool {
	return strings.HasPrefix(t, "... ") && (strings.HasSuffix(t, " more") || strings.HasSuffix(t, "omitted"))
}

func javaStackLine(t string) bool {
	t = strings.TrimSpace(t)
	return strings.HasPrefix(t, "at ") || strings.HasPrefix(t, "Caused by: ") || javaElided(t)
}

func javaSummary(recs []record, b block, top string, causes, frames []int) block {
	b.summary = top
	for _, c := range causes {
		b.cite = append(b.cite, c)
	}
	if len(causes) > 0 {
		root := javaExcText(strings.TrimPrefix(strings.TrimSpace(recs[causes[len(causes)-1]].text), "Caused by: "))
		if root != "" && root != top {
			b.summary = root + " (root cause of " + shorten(top, 160) + ")"
		}
	}
	if f := javaAppFrame(recs, frames); f >= 0 {
		b.cite = append(b.cite, f)
	}
	if len(b.cite) > MaxLines { // keep the top, the root cause and the frame; drop middle causes
		b.cite = append(append([]int{b.cite[0]}, causes[len(causes)-1]), b.cite[len(b.cite)-1])
	}
	return b
}

// javaExcText returns "type: message" from the exception class the line names, or the line.
func javaExcText(t string) string {
	m := javaType.FindStringSubmatchIndex(t)
	if m == nil {
		return strings.TrimSpace(t)
	}
	return strings.TrimSpace(t[m[2]:])
}

// javaLibs are packages whose frames are libraries, not the application.
var javaLibs = []string{
	"java.", "javax.", "jdk.", "sun.", "com.sun.", "jakarta.", "kotlin.", "kotlinx.", "scala.", "groovy.",
	"org.springframework.", "org.apache.", "org.hibernate.", "org.postgresql.", "com.mysql.", "org.mariadb.",
	"com.zaxxer.", "io.netty.", "reactor.", "io.grpc.", "com.google.", "com.fasterxml.", "org.eclipse.",
	"org.glassfish.", "org.jboss.", "io.undertow.", "ch.qos.", "org.slf4j.", "com.mongodb.", "io.micronaut.",
	"io.quarkus.", "io.vertx.", "okhttp3.", "com.amazonaws.", "software.amazon.", "org.junit.", "com.ibm.ws.",
	"com.github.dockerjava.", "org.testcontainers.", "akka.", "org.gradle.", "org.codehaus.",
}

// javaAppFrame picks the application's frame among the top exception's frames: the first one in
// the package of the program's main class when the stack reaches main, else the first frame
// outside the well-known library packages.
func javaAppFrame(recs []record, frames []int) int {
	var root string
	for _, f := range frames {
		cls := javaFrameClass(recs[f].text)
		if strings.HasSuffix(cls, ".main") && !javaLib(cls) {
			root = javaPackageRoot(cls)
		}
	}
	for _, f := range frames {
		cls := javaFrameClass(recs[f].text)
		if cls == "" || javaLib(cls) {
			continue
		}
		if root == "" || strings.HasPrefix(cls, root) {
			return f
		}
	}
	return -1
}

// javaFrameClass returns "pkg.Class.method" from "at java.base/pkg.Class.method(File.java:1)".
func javaFrameClass(t string) string {
	t = strings.TrimPrefix(strings.TrimSpace(t), "at ")
	if p := strings.IndexAny(t, "( "); p >= 0 {
		t = t[:p]
	}
	if s := strings.LastIndexByte(t, '/'); s >= 0 {
		t = t[s+1:]
	}
	return t
}

func javaLib(cls string) bool {
	for _, p := range javaLibs {
		if strings.HasPrefix(cls, p) {
			return true
		}
	}
	return false
}

// javaPackageRoot is the first two package segments of a class, or its name when it has no
// package ("MainKt.main" → "MainKt.").
func javaPackageRoot(cls string) string {
	parts := strings.Split(cls, ".")
	switch {
	case len(parts) <= 2:
		return parts[0] + "."
	case len(parts) == 3:
		return parts[0] + "."
	}
	return parts[0] + "." + parts[1] + "."
}

// parseSpringFailure reads Spring Boot's failure analysis: the APPLICATION FAILED TO START
// banner, the Description and the Action.
func parseSpringFailure(recs []record, i, from int) (block, int, bool) {
	if strings.TrimSpace(recs[i].text) != "APPLICATION FAILED TO START" {
		return block{}, 0, false
	}
	b := block{runtime: Java, kind: kindCrash, first: i, last: i, cite: []int{i}, summary: "APPLICATION FAILED TO START"}
	desc, action := -1, -1
	k := i + 1
	for ; k < len(recs) && k < i+60; k++ {
		switch strings.TrimSpace(recs[k].text) {
		case "Description:":
			desc = nextNonBlank(recs, k+1)
		case "Action:":
			action = nextNonBlank(recs, k+1)
		}
		if action >= 0 {
			break
		}
	}
	if desc >= 0 {
		b.cite = append(b.cite, desc)
		b.summary += ": " + strings.TrimSpace(recs[desc].text)
		b.last = desc
	}
	if action >= 0 {
		b.cite = append(b.cite, action)
		b.last = paragraphEnd(recs, action)
	}
	return b, b.last + 1, true
}

func nextNonBlank(recs []record, k int) int {
	k = skipBlank(recs, k)
	if k >= len(recs) {
		return -1
	}
	return k
}

func paragraphEnd(recs []record, k int) int {
	for k+1 < len(recs) && strings.TrimSpace(recs[k+1].text) != "" {
		k++
	}
	return k
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return clipAt(s, n) + "…"
}
