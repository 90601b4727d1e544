package redact

import (
	"fmt"
	"reflect"
	"regexp"
	"sync"
)

// Value returns a deep copy of v in which every exported string (and []byte) not tagged
// redact:"-" has its secrets redacted and, with escape, its terminal controls escaped. The copy leaves v alone: answers
// are built from an index that other calls read at the same time.
func Value[T any](v T, escape bool) (T, error) {
	f := String
	if escape {
		f = func(s string) string { return Terminal(String(s)) }
	}
	return Apply(v, f)
}

// Apply returns a deep copy of v with f applied to every exported string (and, as text,
// []byte) in it.
func Apply[T any](v T, f func(string) string) (T, error) {
	c := copier{clean: f}
	out := c.walk(reflect.ValueOf(&v).Elem(), 0)
	if c.err != nil {
		var zero T
		return zero, c.err
	}
	return out.Interface().(T), nil
}

// maxDepth bounds the walk: answers are a few levels deep, and a cycle would otherwise never end.
const maxDepth = 64

type copier struct {
	clean func(string) string
	err   error
}

func (c *copier) walk(v reflect.Value, depth int) reflect.Value {
	if depth > maxDepth {
		c.err = fmt.Errorf("redact: a value nested more than %d levels deep", maxDepth)
		return v
	}
	t := v.Type()
	switch v.Kind() {
	case reflect.String:
		return reflect.ValueOf(c.clean(v.String())).Convert(t)
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(t.Elem())
		n.Elem().Set(c.walk(v.Elem(), depth+1))
		return n
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		n := reflect.New(t).Elem()
		n.Set(c.walk(v.Elem(), depth+1))
		return n
	case reflect.Struct:
		n := reflect.New(t).Elem()
		n.Set(v) // unexported fields (a time.Time's wall clock) come along as they are
		for i := range t.NumField() {
			// A field tagged redact:"-" is the server's own (a page token) and must come back
			// exactly: base64 of it can look like a key's body.
			if f := t.Field(i); f.IsExported() && f.Tag.Get("redact") != "-" {
				n.Field(i).Set(c.walk(v.Field(i), depth+1))
			}
		}
		if ni, vi, ok := namedValue(t); ok {
			if value := n.FieldByIndex(vi); value.CanSet() && value.Len() > 0 && secretName(n.FieldByIndex(ni).String()) {
				value.SetString(Marker("env-secret"))
			}
		}
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		if t.Elem().Kind() == reflect.Uint8 {
			// Raw JSON or text: a marker holds no quote or backslash, so JSON stays valid.
			return reflect.ValueOf([]byte(String(string(v.Bytes())))).Convert(t)
		}
		n := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			n.Index(i).Set(c.walk(v.Index(i), depth+1))
		}
		return n
	case reflect.Array:
		n := reflect.New(t).Elem()
		for i := range v.Len() {
			n.Index(i).Set(c.walk(v.Index(i), depth+1))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(t, v.Len())
		for it := v.MapRange(); it.Next(); {
			// Keys stay: they are file paths, rule ids and field names, and a changed key could
			// collide with another.
			n.SetMapIndex(it.Key(), c.walk(it.Value(), depth+1))
		}
		envSecret(n)
		return n
	}
	return v
}

// secretNameRE says a variable's name marks its value secret: an environment variable
// {name: DB_PASSWORD, value: …} in a pod spec holds the value apart from its name, where no
// line rule sees them together.
var secretNameRE = regexp.MustCompile(`(?i)pass(word|wd)?|pwd|secret|token|api_?key|apikey|access_?key|private_?key|credential|auth`)

func secretName(s string) bool { return secretNameRE.MatchString(s) }

// envSecret redacts the value of a {"name": …, "value": …} object (an unstructured EnvVar)
// whose name marks it secret.
func envSecret(m reflect.Value) {
	if m.Type().Key().Kind() != reflect.String {
		return
	}
	name := m.MapIndex(reflect.ValueOf("name").Convert(m.Type().Key()))
	value := m.MapIndex(reflect.ValueOf("value").Convert(m.Type().Key()))
	if !name.IsValid() || !value.IsValid() {
		return
	}
	if name.Kind() == reflect.Interface {
		name = name.Elem()
	}
	if value.Kind() == reflect.Interface {
		value = value.Elem()
	}
	if name.Kind() != reflect.String || value.Kind() != reflect.String || value.Len() == 0 || !secretName(name.String()) {
		return
	}
	marker := reflect.ValueOf(Marker("env-secret"))
	if m.Type().Elem().Kind() != reflect.Interface {
		marker = marker.Convert(m.Type().Elem())
	}
	m.SetMapIndex(reflect.ValueOf("value").Convert(m.Type().Key()), marker)
}

// pairFields remembers, per struct type, where its exported string fields Name and Value are:
// every struct of every answer is copied, and looking fields up by name each time is a linear
// search of the type.
var pairFields sync.Map // reflect.Type → [2][]int, or nil when the type has no such pair

// namedValue finds t's string fields Name and Value (an EnvVar's shape), promoted ones too.
func namedValue(t reflect.Type) (name, value []int, ok bool) {
	if v, hit := pairFields.Load(t); hit {
		p, ok := v.([2][]int)
		return p[0], p[1], ok
	}
	nf, okN := t.FieldByName("Name")
	vf, okV := t.FieldByName("Value")
	if okN && okV && nf.Type.Kind() == reflect.String && vf.Type.Kind() == reflect.String {
		pairFields.Store(t, [2][]int{nf.Index, vf.Index})
		return nf.Index, vf.Index, true
	}
	pairFields.Store(t, nil)
	return nil, nil, false
}
