package export

import (
	"fmt"
	"reflect"
	"strings"
)

// rowTypes are the Go types of the tables' rows, in the order of Tables.
var rowTypes = map[string]reflect.Type{
	"bundles":  reflect.TypeFor[BundleRow](),
	"facts":    reflect.TypeFor[FactRow](),
	"findings": reflect.TypeFor[FindingRow](),
}

// Column is one column of a table as a SQL engine sees it.
type Column struct {
	Name string
	Type string // Hive/Athena type
}

// Columns lists a table's columns in file order; the partition column instance_id is not in
// the files and not listed.
func Columns(table string) []Column {
	t := rowTypes[table]
	var out []Column
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("parquet"), ",")
		out = append(out, Column{Name: tag[0], Type: hiveType(f.Type, tag[1:])})
	}
	return out
}

func hiveType(t reflect.Type, opts []string) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for _, o := range opts {
		if strings.HasPrefix(o, "timestamp(") {
			return "timestamp"
		}
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int32:
		return "int"
	case reflect.Int64:
		return "bigint"
	case reflect.Float64:
		return "double"
	}
	panic(fmt.Sprintf("export: no Hive type for %s", t))
}

// AthenaDDL is the statement that declares a table over the export under location (an s3://
// prefix ending in /), partitioned by instance as the folders are. Every name is in backticks:
// Athena's DDL reserves words such as TIME and COUNT
// (https://docs.aws.amazon.com/athena/latest/ug/reserved-words.html), and the columns avoid the
// ones its SELECT reserves, so that one query text runs on DuckDB, Athena and Trino.
func AthenaDDL(table, location string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE nodediag_%s (\n", table)
	cols := Columns(table)
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  `%s` %s%s\n", c.Name, c.Type, sep)
	}
	fmt.Fprintf(&b, ")\nPARTITIONED BY (instance_id string)\nSTORED AS PARQUET\nLOCATION '%s%s/';\n", location, table)
	return b.String()
}
