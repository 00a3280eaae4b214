package timing

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Param is one profile parameter by its dotted JSON name ("issue_width",
// "kernel.exception_entry_exit") and its value as text.
type Param struct {
	Name  string
	Value string
}

// Params lists every parameter in a fixed order (the order of the JSON schema), for
// reports and sweeps.
func (p *Profile) Params() []Param {
	var out []Param
	walkParams(reflect.ValueOf(p).Elem(), "", func(name string, v reflect.Value) bool {
		out = append(out, Param{name, formatParam(v)})
		return true
	})
	return out
}

// Set overrides one parameter by dotted name, e.g. Set("kernel.exception_entry_exit",
// "1500"). The profile is unchanged if the name is unknown, the value does not parse or the
// result does not validate.
func (p *Profile) Set(name, value string) error {
	q := *p
	var field reflect.Value
	walkParams(reflect.ValueOf(&q).Elem(), "", func(n string, v reflect.Value) bool {
		if n == name {
			field = v
			return false
		}
		return true
	})
	if !field.IsValid() {
		return fmt.Errorf("set %s: unknown parameter", name)
	}
	switch field.Kind() {
	case reflect.String:
		field.SetString(value)
	case reflect.Int:
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("set %s: %q is not an integer", name, value)
		}
		field.SetInt(int64(n))
	case reflect.Uint64:
		n, err := strconv.ParseUint(value, 10, 64)
		if err != nil {
			return fmt.Errorf("set %s: %q is not a non-negative integer", name, value)
		}
		field.SetUint(n)
	}
	if err := q.Validate(); err != nil {
		return fmt.Errorf("set %s=%s: %v", name, value, err)
	}
	*p = q
	return nil
}

// Override applies one "name=value" assignment (the form sweep flags use).
func (p *Profile) Override(assignment string) error {
	name, value, ok := strings.Cut(assignment, "=")
	if !ok || name == "" {
		return fmt.Errorf("override %q: want name=value", assignment)
	}
	return p.Set(strings.TrimSpace(name), strings.TrimSpace(value))
}

// walkParams visits the exported, JSON-tagged fields of v depth first, naming nested ones
// "outer.inner"; visit returns false to stop.
func walkParams(v reflect.Value, prefix string, visit func(string, reflect.Value) bool) bool {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("param") == "-" {
			continue
		}
		name := prefix + jsonName(f)
		if f.Type.Kind() == reflect.Struct {
			if !walkParams(v.Field(i), name+".", visit) {
				return false
			}
			continue
		}
		if !visit(name, v.Field(i)) {
			return false
		}
	}
	return true
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

func formatParam(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	}
	return fmt.Sprint(v.Interface())
}
