package wire

// This file says a JSON type error in JSON's words, for faces that decode bodies into
// Go structs: the field as the body spells it and the JSON value expected, never a Go
// type name.

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
)

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// TypeError reads err, which decoding a body into target (what was passed to
// json.Unmarshal or Decoder.Decode; nil if unknown) returned, as the path of the field at
// fault and the JSON value it takes: "a string", "a number", "a whole number", "true or
// false", "an array", "an object" or "a JSON value". The path is the body's field names
// joined with "." ("userKey.username"); with target, "[]" follows an array's name where
// the fault is in its items ("roles[].name", or "roles[]" for an item itself), which err
// alone cannot tell. The path is "" when the body as a whole has the wrong type.
func TypeError(err *json.UnmarshalTypeError, target any) (field, want string) {
	want = jsonKind(err.Type)
	if err.Field == "" || target == nil {
		return err.Field, want
	}
	var out []string
	t := reflect.TypeOf(target)
	for _, seg := range strings.Split(err.Field, ".") {
		t = throughArrays(t, out)
		if t.Kind() != reflect.Struct {
			return err.Field, want // a path we cannot follow: as json says it
		}
		f, ok := fieldNamed(t, seg)
		if !ok {
			return err.Field, want
		}
		t = f.Type
		if f.name != "" { // json names an embedded struct by its Go name; the body does not
			out = append(out, f.name)
		}
	}
	// The field's items were refused rather than the field: mark as many levels as that.
	for t = skipMaps(t); len(out) > 0 && t != deref(err.Type) && isArray(t); t = skipMaps(t.Elem()) {
		out[len(out)-1] += "[]"
	}
	return strings.Join(out, "."), want
}

// throughArrays steps from t through arrays to their items, marking the last of out
// with "[]" for each, and through maps to their values (json names no key), and returns
// the type reached without pointers.
func throughArrays(t reflect.Type, out []string) reflect.Type {
	for t = skipMaps(t); isArray(t); t = skipMaps(t.Elem()) {
		if len(out) > 0 {
			out[len(out)-1] += "[]"
		}
	}
	return t
}

// skipMaps steps from t through maps to their values, and pointers to what they point to.
func skipMaps(t reflect.Type) reflect.Type {
	for t = deref(t); t.Kind() == reflect.Map; t = deref(t.Elem()) {
	}
	return t
}

func isArray(t reflect.Type) bool {
	return (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() != reflect.Uint8 && !isText(t)
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func isText(t reflect.Type) bool {
	return t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler)
}

// fieldNamed finds the struct field json decodes name into: its tag's name or, without
// one, its Go name, compared ignoring case as encoding/json does; embedded structs' fields
// count as the struct's own, and an embedded struct's Go name (as json's paths have it)
// is the struct itself, with no name on the wire.
func fieldNamed(t reflect.Type, name string) (namedField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		if f.Anonymous && tag == "" {
			if inner := deref(f.Type); inner.Kind() == reflect.Struct && strings.EqualFold(f.Name, name) {
				return namedField{Type: inner}, true
			} else if inner.Kind() == reflect.Struct {
				if found, ok := fieldNamed(inner, name); ok {
					return found, true
				}
			}
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if strings.EqualFold(tag, name) {
			return namedField{Type: f.Type, name: tag}, true
		}
	}
	return namedField{}, false
}

// namedField is a struct field's type and its name on the wire.
type namedField struct {
	Type reflect.Type
	name string
}

// jsonKind names the JSON value a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	t = deref(t)
	if t == nil {
		return "a JSON value"
	}
	if isText(t) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a string" // []byte is base64 text
		}
		return "an array"
	case reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a JSON value"
}
