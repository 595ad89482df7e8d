package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"iamd"
)

// A User is handled here as a document: the decoded JSON of the resource, attribute
// names as the schema spells them. The canonical fields make most of it; what SCIM has
// and the canonical record does not (title, addresses, further emails and phone
// numbers…) is kept in the user's Extra and merged back in. PATCH applies its operations
// to the document, and POST, PUT and PATCH all turn a document into the canonical user
// the same way.

// keptAttrs are the core User attributes no canonical field holds, kept as written.
var keptAttrs = []string{"nickName", "profileUrl", "title", "userType", "preferredLanguage",
	"ims", "photos", "addresses", "entitlements", "x509Certificates"}

// multiValued are the User's multi-valued attributes (RFC 7643 §4.1.2).
var multiValued = []string{"emails", "phoneNumbers", "ims", "photos", "addresses", "groups", "entitlements",
	"roles", "x509Certificates"}

// coreAttrs are every attribute of the core User schema; a PATCH path naming another
// is invalidPath.
var coreAttrs = append([]string{"id", "externalId", "meta", "schemas", "userName", "name", "displayName", "locale",
	"timezone", "active", "password", "emails", "phoneNumbers", "groups", "roles"}, keptAttrs...)

// enterpriseAttrs are the enterprise extension's attributes (RFC 7643 §4.3); names do
// not collide with the core's, so a path may leave the URN out.
var enterpriseAttrs = []string{"employeeNumber", "costCenter", "organization", "division", "department", "manager"}

// canonicalName are the sub-attributes of name the canonical record holds. formatted is
// not one of them: it is kept as written, apart from displayName (RFC 7643 §4.1.1 has
// them as two attributes, and a client may set, clear or read either alone).
var canonicalName = []string{"givenName", "familyName"}

// subAttrs are the sub-attributes of the User's complex attributes as RFC 7643 §4.1 and
// §4.3 spell them; names sent in another case are written this way (§2.1).
var subAttrs = map[string][]string{
	"name":      {"formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"},
	"addresses": {"formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary"},
	"manager":   {"value", "$ref", "displayName"},
	"":          {"value", "display", "type", "primary", "$ref"}, // every other multi-valued attribute
}

func subAttrsOf(attr string) []string {
	if list, ok := subAttrs[attr]; ok {
		return list
	}
	return subAttrs[""]
}

// canonicalEnterprise are the enterprise attributes the canonical record holds.
var canonicalEnterprise = []string{"employeeNumber", "organization", "division", "department", "manager"}

// spelled returns name as list spells it, ignoring case, or "".
func spelled(list []string, name string) string {
	for _, s := range list {
		if strings.EqualFold(s, name) {
			return s
		}
	}
	return ""
}

// key finds the key of m that is name, ignoring case (RFC 7643 §2.1), or "".
func key(m map[string]any, name string) string {
	if _, ok := m[name]; ok {
		return name
	}
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

func decodeDoc(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, newError(http.StatusBadRequest, TypeInvalidSyntax, "The body is not a JSON object.")
	}
	if dec.More() {
		return nil, newError(http.StatusBadRequest, TypeInvalidSyntax, "The body holds more than one JSON value.")
	}
	return doc, nil
}

// userDoc is the user as a SCIM document: the canonical fields, with the kept
// attributes merged in.
func userDoc(ctx context.Context, u *iamd.User) map[string]any {
	raw, _ := json.Marshal(toSCIM(ctx, u))
	doc, _ := decodeDoc(raw)
	if u.Extra == "" {
		return doc
	}
	extra, err := decodeDoc([]byte(u.Extra))
	if err != nil {
		return doc
	}
	for k, v := range extra {
		switch k {
		case "name":
			name, _ := doc["name"].(map[string]any)
			if name == nil {
				name = map[string]any{}
			}
			for sk, sv := range asObject(v) {
				name[sk] = sv
			}
			doc["name"] = name
		case SchemaEnterprise:
			ent, _ := doc[SchemaEnterprise].(map[string]any)
			if ent == nil {
				ent = map[string]any{}
				doc["schemas"] = append(doc["schemas"].([]any), SchemaEnterprise)
			}
			for sk, sv := range asObject(v) {
				ent[sk] = sv
			}
			doc[SchemaEnterprise] = ent
		case "emails", "phoneNumbers":
			if list := reconcile(k, asList(v), doc[k]); len(list) > 0 {
				doc[k] = list
			}
		default:
			doc[k] = v
		}
	}
	return doc
}

// reconcile returns the kept list of emails or phone numbers with its picked value made
// the canonical one, which another face may have changed since (canonical is the list
// toSCIM made: one value, or none). A value that still means the same — an email in
// other case, a number with other separators — stays as it was written.
func reconcile(attr string, kept []any, canonical any) []any {
	current := ""
	if list := asList(canonical); len(list) == 1 {
		current, _ = asObject(list[0])["value"].(string)
	}
	at := pickIndex(kept)
	switch {
	case at < 0 && current == "":
		return kept
	case at < 0:
		return append(kept, map[string]any{"value": current, "type": valueType, "primary": true})
	case current == "":
		return slices.Delete(slices.Clone(kept), at, at+1)
	}
	was, _ := asObject(kept[at])["value"].(string)
	if same(attr, was, current) {
		return kept
	}
	out := slices.Clone(kept)
	picked := map[string]any{}
	for k, v := range asObject(kept[at]) {
		picked[k] = v
	}
	picked["value"] = current
	out[at] = picked
	return out
}

func same(attr, a, b string) bool {
	if attr != "phoneNumbers" {
		return strings.EqualFold(a, b)
	}
	return digitsOf(a) == digitsOf(b)
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// pickIndex is the value the canonical record holds: the primary one, else the work
// one, else the first (as pick does); -1 for none.
func pickIndex(list []any) int {
	for i, v := range list {
		if p := asObject(v)["primary"]; p == true || strings.EqualFold(fmt.Sprint(p), "true") {
			return i
		}
	}
	for i, v := range list {
		if t, _ := asObject(v)["type"].(string); strings.EqualFold(t, valueType) {
			return i
		}
	}
	if len(list) > 0 {
		return 0
	}
	return -1
}

func asObject(v any) map[string]any { m, _ := v.(map[string]any); return m }

func asList(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	}
	return []any{v}
}

// tidy brings a User document to the schema's terms: sub-attribute names spelled as the
// schema spells them (RFC 7643 §2.1), each multi-valued attribute a list of values in
// which a (type, value) pair appears once (§2.4: SHOULD NOT repeat; a repeat that was
// primary makes the value kept primary) and primary a boolean true for one value at most
// (§2.4: MUST) — more than one is invalidValue.
func tidy(doc map[string]any) error {
	for k, v := range doc {
		attr := spelled(multiValued, k)
		switch {
		case attr != "" && attr != "groups":
			list, err := tidyList(attr, v)
			if err != nil {
				return err
			}
			doc[k] = list
		case strings.EqualFold(k, "name"):
			if err := respell(k, asObject(v), subAttrs["name"]); err != nil {
				return err
			}
		case strings.EqualFold(k, SchemaEnterprise):
			ent := asObject(v)
			if mk := key(ent, "manager"); mk != "" {
				if err := respell("manager", asObject(ent[mk]), subAttrs["manager"]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// tidyList is a multi-valued attribute as tidy leaves it.
func tidyList(attr string, v any) ([]any, error) {
	var out []any
	seen := map[string]int{}
	primaries := 0
	for _, item := range asList(v) {
		elem := asObject(item)
		if elem == nil {
			out = append(out, item) // not an object: checkKept or the canonical reading refuses it
			continue
		}
		if err := respell(attr, elem, subAttrsOf(attr)); err != nil {
			return nil, err
		}
		primary, err := primaryOf(attr, elem)
		if err != nil {
			return nil, err
		}
		id := valueKey(attr, elem)
		if at, ok := seen[id]; ok {
			if primary && !isTrue(asObject(out[at])["primary"]) {
				asObject(out[at])["primary"] = true
				primaries++
			}
			continue
		}
		seen[id] = len(out)
		if primary {
			primaries++
		}
		out = append(out, elem)
	}
	if primaries > 1 {
		return nil, newError(http.StatusBadRequest, TypeInvalidValue,
			"At most one of the "+attr+" values may be primary; "+strconv.Itoa(primaries)+" are.")
	}
	return out, nil
}

// respell renames obj's keys that are names of list in another case to list's spelling.
// Two keys that differ only in case are invalidSyntax: which one was meant is unknown.
func respell(attr string, obj map[string]any, list []string) error {
	for k, v := range obj {
		name := spelled(list, k)
		if name == "" || name == k {
			continue
		}
		if _, both := obj[name]; both {
			return newError(http.StatusBadRequest, TypeInvalidSyntax, "A value of "+attr+" has "+name+" twice, as "+strconv.Quote(name)+" and "+strconv.Quote(k)+".")
		}
		delete(obj, k)
		obj[name] = v
	}
	return nil
}

// primaryOf reads a value's primary sub-attribute as the boolean RFC 7643 types it —
// a string "true" or "False", as some provisioners send, included — and writes it back
// so; absent or null is false. Anything else is invalidValue.
func primaryOf(attr string, elem map[string]any) (bool, error) {
	var b flexBool
	raw, _ := json.Marshal(elem["primary"])
	if err := b.UnmarshalJSON(raw); err != nil {
		return false, newError(http.StatusBadRequest, TypeInvalidValue, "The primary of a value of "+attr+" must be true or false.")
	}
	if b.set {
		elem["primary"] = b.value
	}
	return b.value, nil
}

// isTrue tells whether v is true, or "true" in any case, as some provisioners send it.
func isTrue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// caseExactValues are the multi-valued attributes whose value RFC 7643 §4.1.2 and §4.3
// has caseExact (references and binary data); the others' values compare ignoring case.
var caseExactValues = []string{"photos", "x509Certificates"}

// valueKey identifies a value of a multi-valued attribute for finding repeats: its type
// and value, compared as the attribute compares them (phone numbers by their digits,
// values not caseExact ignoring case), or the whole value when it has none (addresses).
func valueKey(attr string, elem map[string]any) string {
	t, _ := elem["type"].(string)
	if v, ok := elem["value"]; ok {
		s := fmt.Sprint(v)
		switch {
		case attr == "phoneNumbers":
			s = digitsOf(s)
		case !slices.Contains(caseExactValues, attr):
			s = strings.ToLower(s)
		}
		return strings.ToLower(t) + "\x00" + s
	}
	rest := map[string]any{}
	for k, v := range elem {
		if k != "primary" {
			rest[k] = v
		}
	}
	raw, _ := json.Marshal(rest)
	return "\x01" + string(raw)
}

// primaryValues names, per multi-valued attribute, the values that are primary.
func primaryValues(doc map[string]any) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for k, v := range doc {
		if attr := spelled(multiValued, k); attr != "" {
			for _, item := range asList(v) {
				if elem := asObject(item); elem != nil && isTrue(elem[key(elem, "primary")]) {
					if out[attr] == nil {
						out[attr] = map[string]bool{}
					}
					out[attr][valueKey(attr, elem)] = true
				}
			}
		}
	}
	return out
}

// settlePrimaries makes the value an operation made primary the only primary one of its
// attribute (RFC 7644 §3.5.2: the server SHALL set primary to false for the others).
// before is primaryValues of the document before the operation; one operation making
// two values primary is invalidValue. With before nil, the first primary value stays so.
func settlePrimaries(doc map[string]any, before map[string]map[string]bool) error {
	for k, v := range doc {
		attr := spelled(multiValued, k)
		if attr == "" {
			continue
		}
		list := asList(v)
		var primary, made []int
		for i, item := range list {
			if elem := asObject(item); elem != nil && isTrue(elem[key(elem, "primary")]) {
				primary = append(primary, i)
				if before != nil && !before[attr][valueKey(attr, elem)] {
					made = append(made, i)
				}
			}
		}
		if len(primary) < 2 {
			continue
		}
		if len(made) > 1 {
			return newError(http.StatusBadRequest, TypeInvalidValue, "An operation may make one of the "+attr+" values primary, not "+strconv.Itoa(len(made))+".")
		}
		keep := primary[0]
		if len(made) == 1 {
			keep = made[0]
		}
		for _, i := range primary {
			if i != keep {
				elem := asObject(list[i])
				elem[key(elem, "primary")] = false
			}
		}
	}
	return nil
}

// keptFrom extracts from a document the attributes the canonical record does not hold,
// as the JSON object stored in the user's Extra ("" when there are none).
func keptFrom(doc map[string]any) (string, error) {
	extra := map[string]any{}
	for k, v := range doc {
		if name := spelled(keptAttrs, k); name != "" && v != nil {
			if err := checkKept(name, v); err != nil {
				return "", err
			}
			extra[name] = normalized(name, v)
		}
	}
	if k := key(doc, "name"); k != "" {
		rest := map[string]any{}
		for sk, sv := range asObject(doc[k]) {
			if spelled(canonicalName, sk) == "" && sv != nil {
				if err := checkKept("name."+sk, sv); err != nil {
					return "", err
				}
				rest[sk] = sv
			}
		}
		if len(rest) > 0 {
			extra["name"] = rest
		}
	}
	for _, multi := range []string{"emails", "phoneNumbers"} {
		// Kept whole when it says more than the one canonical value does.
		if k := key(doc, multi); k != "" {
			list := asList(doc[k])
			if len(list) > 1 || (len(list) == 1 && saysMore(asObject(list[0]))) {
				extra[multi] = normalized(multi, list)
			}
		}
	}
	if k := key(doc, SchemaEnterprise); k != "" {
		rest := map[string]any{}
		for sk, sv := range asObject(doc[k]) {
			if spelled(canonicalEnterprise, sk) == "" && spelled(enterpriseAttrs, sk) != "" && sv != nil {
				if err := checkKept(spelled(enterpriseAttrs, sk), sv); err != nil {
					return "", err
				}
				rest[spelled(enterpriseAttrs, sk)] = sv
			}
		}
		if len(rest) > 0 {
			extra[SchemaEnterprise] = rest
		}
	}
	if len(extra) == 0 {
		return "", nil
	}
	raw, err := json.Marshal(extra)
	if err != nil {
		return "", newError(http.StatusBadRequest, TypeInvalidValue, "The attributes kept beside the canonical ones are not JSON.")
	}
	if len(raw) > iamd.MaxExtraLen {
		return "", newError(http.StatusBadRequest, TypeInvalidValue,
			fmt.Sprintf("The attributes iamd keeps as written (title, addresses, further emails and phone numbers…) take %d bytes, more than %d.", len(raw), iamd.MaxExtraLen))
	}
	return string(raw), nil
}

// checkKept holds a kept attribute to its type in RFC 7643: a multi-valued one is a
// list of objects (or one object), any other a string.
func checkKept(attr string, v any) error {
	if spelled(multiValued, attr) == "" {
		if _, ok := v.(string); !ok {
			return newError(http.StatusBadRequest, TypeInvalidValue, "The attribute "+attr+" must be a string.")
		}
		return nil
	}
	for _, item := range asList(v) {
		if asObject(item) == nil {
			return newError(http.StatusBadRequest, TypeInvalidValue, "Each value of "+attr+" must be an object.")
		}
	}
	return nil
}

// normalized makes a multi-valued attribute a list, and each value's primary a boolean
// ("true" as some provisioners write it), as RFC 7643 types it.
func normalized(attr string, v any) any {
	if spelled(multiValued, attr) == "" {
		return v
	}
	list := asList(v)
	for _, item := range list {
		elem := asObject(item)
		k := key(elem, "primary")
		if s, ok := elem[k].(string); ok && k != "" {
			b, err := strconv.ParseBool(strings.ToLower(s))
			if err != nil {
				b = false
			}
			elem[k] = b
		}
	}
	return list
}

// saysMore tells whether an email or phone value carries more than the canonical record
// keeps of it (its value, of type work, primary).
func saysMore(v map[string]any) bool {
	for k, x := range v {
		switch strings.ToLower(k) {
		case "value":
		case "type":
			if t, _ := x.(string); !strings.EqualFold(t, valueType) {
				return true
			}
		case "primary":
		default:
			return true
		}
	}
	return false
}

// patchPath is a PATCH path (RFC 7644 §3.5.2): an attribute, perhaps of the enterprise
// extension, perhaps narrowed to the values a filter selects, perhaps to a
// sub-attribute.
type patchPath struct {
	enterprise bool
	attr       string // as the schema spells it
	filter     Filter // nil: no value filter
	sub        string
	shown      string // as the request wrote it
}

func parsePatchPath(path string) (patchPath, error) {
	p := patchPath{shown: path}
	rest := strings.TrimSpace(path)
	for _, urn := range []string{SchemaEnterprise, SchemaUser} {
		if len(rest) > len(urn) && strings.EqualFold(rest[:len(urn)+1], urn+":") {
			rest, p.enterprise = rest[len(urn)+1:], urn == SchemaEnterprise
		}
	}
	name := rest
	if i := strings.IndexByte(rest, '['); i >= 0 {
		j := strings.LastIndexByte(rest, ']')
		if j < i {
			return p, invalidPath(path)
		}
		f, err := ParseFilter(rest[i+1 : j])
		if err != nil {
			return p, newError(http.StatusBadRequest, TypeInvalidPath, "The value filter of "+path+" does not parse: "+err.Error())
		}
		p.filter, name = f, rest[:i]
		rest = rest[j+1:]
		if rest != "" && !strings.HasPrefix(rest, ".") {
			return p, invalidPath(path)
		}
		p.sub = strings.TrimPrefix(rest, ".")
	} else if attr, sub, ok := strings.Cut(rest, "."); ok {
		name, p.sub = attr, sub
	}
	if !p.enterprise {
		if p.attr = spelled(coreAttrs, name); p.attr == "" {
			p.attr, p.enterprise = spelled(enterpriseAttrs, name), true
		}
	} else {
		p.attr = spelled(enterpriseAttrs, name)
	}
	if p.attr == "" || strings.ContainsAny(p.sub, ".[]") {
		return p, invalidPath(path)
	}
	return p, nil
}

// container is the object the path's attribute sits in: the document, or its enterprise
// extension (made when create is set).
func (p patchPath) container(doc map[string]any, create bool) map[string]any {
	if !p.enterprise {
		return doc
	}
	k := key(doc, SchemaEnterprise)
	if k == "" {
		if !create {
			return nil
		}
		k = SchemaEnterprise
		doc[k] = map[string]any{}
	}
	ent := asObject(doc[k])
	if ent == nil && create {
		ent = map[string]any{}
		doc[k] = ent
	}
	return ent
}

// applyPatch applies PatchOp operations to a User document. Op names are compared
// ignoring case (Entra sends "Replace"); an operation without a path carries an object
// whose keys are paths (Entra sends "name.givenName" and URN-prefixed keys there).
func applyPatch(doc map[string]any, ops []patchOp) error {
	if err := settlePrimaries(doc, nil); err != nil {
		return err
	}
	for _, op := range ops {
		if err := applyOp(doc, op); err != nil {
			return err
		}
	}
	return nil
}

// applyOp applies one operation, the value it makes primary the only primary one.
func applyOp(doc map[string]any, op patchOp) error {
	before := primaryValues(doc)
	if err := applyOpValue(doc, op); err != nil {
		return err
	}
	return settlePrimaries(doc, before)
}

func applyOpValue(doc map[string]any, op patchOp) error {
	kind := strings.ToLower(op.Op)
	var value any
	if len(op.Value) > 0 {
		dec := json.NewDecoder(bytes.NewReader(op.Value))
		dec.UseNumber()
		if dec.Decode(&value) != nil {
			return newError(http.StatusBadRequest, TypeInvalidValue, "The value of an operation is not JSON.")
		}
	}
	switch {
	case kind != "add" && kind != "replace" && kind != "remove":
		return newError(http.StatusBadRequest, TypeInvalidSyntax, "Unknown operation "+op.Op+": add, remove or replace.")
	case strings.TrimSpace(op.Path) == "" && kind == "remove":
		return newError(http.StatusBadRequest, TypeNoTarget, "A remove operation needs a path.")
	case strings.TrimSpace(op.Path) == "":
		attrs, ok := value.(map[string]any)
		if !ok {
			return newError(http.StatusBadRequest, TypeInvalidValue, "An operation without a path needs an object value.")
		}
		for k, v := range attrs {
			if strings.EqualFold(k, SchemaEnterprise) { // the extension as an object
				ext, ok := v.(map[string]any)
				if !ok {
					return invalidValue(k)
				}
				for ek, ev := range ext {
					if err := setPath(doc, kind, SchemaEnterprise+":"+ek, ev); err != nil {
						return err
					}
				}
				continue
			}
			if err := setPath(doc, kind, k, v); err != nil {
				return err
			}
		}
	case kind == "remove":
		p, err := parsePatchPath(op.Path)
		if err != nil {
			return err
		}
		if p.attr == "password" || p.attr == "active" {
			return newError(http.StatusBadRequest, TypeMutability, p.attr+" cannot be removed; replace it.")
		}
		if err := remove(doc, p, value); err != nil {
			return err
		}
	default:
		if err := setPath(doc, kind, op.Path, value); err != nil {
			return err
		}
	}
	return nil
}

// setPath adds or replaces the value at path.
func setPath(doc map[string]any, kind, path string, value any) error {
	p, err := parsePatchPath(path)
	if err != nil {
		return err
	}
	c := p.container(doc, true)
	if c == nil {
		return invalidValue(p.shown)
	}
	k := key(c, p.attr)
	if k == "" {
		k = p.attr
	}
	multi := spelled(multiValued, p.attr) != ""
	switch {
	case p.filter != nil:
		if !multi {
			return invalidPath(p.shown)
		}
		list := asList(c[k])
		matched := false
		for i, v := range list {
			elem := asObject(v)
			if elem == nil || !matches(p.filter, elem) {
				continue
			}
			matched = true
			if p.sub != "" {
				elem[subKey(elem, p.sub)] = value
			} else if obj, ok := value.(map[string]any); ok {
				if kind == "replace" {
					elem = map[string]any{}
				}
				for ok, ov := range obj {
					elem[ok] = ov
				}
			} else {
				return invalidValue(p.shown)
			}
			list[i] = elem
		}
		if !matched {
			// RFC 7644 §3.5.2.3: a replace whose filter selects nothing fails. An add
			// makes the value the filter describes (Entra adds phoneNumbers[type eq
			// "mobile"].value this way).
			elem, ok := describedBy(p.filter)
			if kind == "replace" || !ok {
				return newError(http.StatusBadRequest, TypeNoTarget, "No value matches "+p.shown+".")
			}
			if p.sub != "" {
				elem[p.sub] = value
			} else if obj, isObj := value.(map[string]any); isObj {
				for ok, ov := range obj {
					elem[ok] = ov
				}
			} else {
				return invalidValue(p.shown)
			}
			list = append(list, elem)
		}
		c[k] = list
	case p.sub != "" && multi:
		// emails.value and the like: the picked value, made if there is none.
		list := asList(c[k])
		at := pickIndex(list)
		if at < 0 {
			list, at = append(list, map[string]any{"type": valueType, "primary": true}), len(list)
		}
		elem := asObject(list[at])
		if elem == nil {
			return invalidValue(p.shown)
		}
		elem[subKey(elem, p.sub)] = value
		c[k] = list
	case p.sub != "":
		obj := asObject(c[k])
		if obj == nil {
			if c[k] != nil && p.attr != "manager" {
				return invalidValue(p.shown)
			}
			obj = map[string]any{}
		}
		obj[subKey(obj, p.sub)] = value
		c[k] = obj
	case multi && kind == "add":
		c[k] = append(slices.Clone(asList(c[k])), asList(value)...)
	case kind == "add" && asObject(value) != nil && asObject(c[k]) != nil:
		obj := asObject(c[k]) // a complex value: its sub-attributes are merged
		for sk, sv := range asObject(value) {
			obj[subKey(obj, sk)] = sv
		}
	case multi:
		c[k] = asList(value) // one value given for a multi-valued attribute is a list of one
	default:
		c[k] = value
	}
	return nil
}

func subKey(obj map[string]any, name string) string {
	if k := key(obj, name); k != "" {
		return k
	}
	return name
}

// remove takes away the value at path: the attribute, a sub-attribute, or the values a
// filter selects (none selected is no failure, RFC 7644 §3.5.2.2). A value given with a
// multi-valued path removes the values equal to it (Entra removes members this way).
func remove(doc map[string]any, p patchPath, value any) error {
	c := p.container(doc, false)
	if c == nil {
		return nil
	}
	k := key(c, p.attr)
	if k == "" {
		return nil
	}
	multi := spelled(multiValued, p.attr) != ""
	switch {
	case p.filter != nil || (multi && value != nil && p.sub == ""):
		var kept []any
		for _, v := range asList(c[k]) {
			elem := asObject(v)
			hit := elem != nil && ((p.filter != nil && matches(p.filter, elem)) || (p.filter == nil && listsValue(value, elem)))
			switch {
			case !hit:
				kept = append(kept, v)
			case p.sub != "":
				delete(elem, subKey(elem, p.sub))
				kept = append(kept, elem)
			}
		}
		c[k] = kept
	case p.sub != "" && multi:
		for _, v := range asList(c[k]) {
			if elem := asObject(v); elem != nil {
				delete(elem, subKey(elem, p.sub))
			}
		}
	case p.sub != "":
		if obj := asObject(c[k]); obj != nil {
			delete(obj, subKey(obj, p.sub))
		}
	default:
		delete(c, k)
	}
	return nil
}

// listsValue tells whether elem's value is among those a remove operation gave.
func listsValue(given any, elem map[string]any) bool {
	v := fmt.Sprint(elem[key(elem, "value")])
	for _, g := range asList(given) {
		if gv, ok := asObject(g)["value"]; ok && fmt.Sprint(gv) == v {
			return true
		}
		if fmt.Sprint(g) == v {
			return true
		}
	}
	return false
}

// matches evaluates a value filter (attribute paths are sub-attributes) against one
// value of a multi-valued attribute. Strings compare ignoring case, as the
// sub-attributes of emails, phoneNumbers, addresses and roles are caseExact false;
// booleans compare with booleans or their names ("True", as Entra writes them).
func matches(f Filter, elem map[string]any) bool {
	switch f := f.(type) {
	case *Logical:
		if f.Op == "and" {
			return matches(f.Left, elem) && matches(f.Right, elem)
		}
		return matches(f.Left, elem) || matches(f.Right, elem)
	case *Not:
		return !matches(f.Filter, elem)
	case *Present:
		v, ok := elem[key(elem, f.Attr.Name)]
		return ok && v != nil && v != ""
	case *Compare:
		v, ok := elem[key(elem, f.Attr.Name)]
		if !ok || v == nil {
			return f.Op == OpNe && f.Value != nil
		}
		have, want := strings.ToLower(fmt.Sprint(v)), strings.ToLower(fmt.Sprint(f.Value))
		switch f.Op {
		case OpEq:
			return have == want
		case OpNe:
			return have != want
		case OpCo:
			return strings.Contains(have, want)
		case OpSw:
			return strings.HasPrefix(have, want)
		case OpEw:
			return strings.HasSuffix(have, want)
		case OpGt:
			return have > want
		case OpGe:
			return have >= want
		case OpLt:
			return have < want
		case OpLe:
			return have <= want
		}
	}
	return false
}

// describedBy is the value an equality filter describes (type eq "mobile" and
// primary eq true), for an add that found none; ok is false for other filters.
func describedBy(f Filter) (map[string]any, bool) {
	out := map[string]any{}
	var walk func(Filter) bool
	walk = func(f Filter) bool {
		switch f := f.(type) {
		case *Logical:
			return f.Op == "and" && walk(f.Left) && walk(f.Right)
		case *Compare:
			if f.Op != OpEq || f.Attr.Sub != "" {
				return false
			}
			out[f.Attr.Name] = f.Value
			return true
		}
		return false
	}
	return out, walk(f)
}
