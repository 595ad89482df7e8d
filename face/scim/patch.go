package scim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"iamd"
)

const schemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// writable maps the lower-cased attribute paths a PATCH or PUT may set onto canonical
// fields: the string attributes filters know, and active, but not id and userName.
var writable = func() map[string]string {
	out := map[string]string{}
	for path, a := range userAttrs {
		if (a.kind == kindString || a.kind == kindActive) && path != "id" && path != "username" {
			out[path] = a.field
		}
	}
	return out
}()

// readOnly are attributes a client may send back unchanged but never set.
var readOnly = map[string]bool{"id": true, "meta": true, "groups": true, "username": true, "schemas": true}

// edit collects the changes of a PATCH or PUT as the core's update.
type edit struct {
	upd      iamd.UserUpdate
	password *string // write-only: set through the accounts core, after its policy
	op       string  // the PATCH operation being read: add and replace differ for roles
	roles    []roleStep
}

// roleStep is one change to the user's direct roles, applied in order to the roles the
// user has when the change is written.
type roleStep struct {
	op    string // add, replace or remove
	names []string
	all   bool // remove every role
}

// newRoles applies the edit's role steps to current; nil when there are none.
func (e *edit) newRoles(current []string) *[]string {
	if len(e.roles) == 0 {
		return nil
	}
	roles := slices.Clone(current)
	for _, s := range e.roles {
		switch {
		case s.op == "replace":
			roles = slices.Clone(s.names)
		case s.op == "add":
			roles = append(roles, s.names...)
		case s.all:
			roles = nil
		default:
			roles = slices.DeleteFunc(roles, func(r string) bool { return slices.Contains(s.names, r) })
		}
	}
	if roles == nil {
		roles = []string{}
	}
	return &roles
}

// roleValueFilter reads a path naming one role, roles[value eq "name"]: ok tells whether
// the path is about roles at all.
func roleValueFilter(path string) (name string, ok bool, err error) {
	p := strings.TrimSpace(path)
	if len(p) > len(SchemaUser) && strings.EqualFold(p[:len(SchemaUser)+1], SchemaUser+":") {
		p = p[len(SchemaUser)+1:]
	}
	if !strings.HasPrefix(strings.ToLower(p), "roles[") {
		return "", false, nil
	}
	bad := newError(http.StatusBadRequest, TypeInvalidPath, `A role is named as roles[value eq "name"].`)
	if !strings.HasSuffix(p, "]") {
		return "", true, bad
	}
	parsed, err := ParseFilter(p[len("roles[") : len(p)-1])
	c, isCompare := parsed.(*Compare)
	if err != nil || !isCompare || c.Op != OpEq || !strings.EqualFold(c.Attr.Name, "value") || c.Attr.Sub != "" {
		return "", true, bad
	}
	name, isString := c.Value.(string)
	if !isString {
		return "", true, bad
	}
	return name, true, nil
}

// readRoles reads SCIM roles as role names: [{"value": name}], one such object, or
// plain names. Entra ID's app-role mapping sends each value as a JSON string of its own,
// {"id": …, "value": name, "displayName": …}; its value is the name.
func readRoles(raw json.RawMessage) ([]string, bool) {
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		list = []json.RawMessage{raw}
	}
	names := []string{}
	for _, item := range list {
		var v struct {
			Value string `json:"value"`
		}
		if json.Unmarshal(item, &v) != nil && json.Unmarshal(item, &v.Value) != nil {
			return nil, false
		}
		if strings.HasPrefix(strings.TrimSpace(v.Value), "{") {
			var inner struct {
				Value string `json:"value"`
			}
			if json.Unmarshal([]byte(v.Value), &inner) == nil && inner.Value != "" {
				v.Value = inner.Value
			}
		}
		if v.Value == "" {
			return nil, false
		}
		names = append(names, v.Value)
	}
	return names, true
}

func (e *edit) set(field, value string) {
	v := value
	ptr := map[string]**string{iamd.FieldDisplayName: &e.upd.DisplayName, iamd.FieldGivenName: &e.upd.GivenName,
		iamd.FieldFamilyName: &e.upd.FamilyName, iamd.FieldEmail: &e.upd.Email, iamd.FieldPhoneNumber: &e.upd.PhoneNumber,
		iamd.FieldExternalID: &e.upd.ExternalID, iamd.FieldLocale: &e.upd.Locale, iamd.FieldTimeZone: &e.upd.TimeZone,
		iamd.FieldEmployeeNumber: &e.upd.EmployeeNumber, iamd.FieldDepartment: &e.upd.Department,
		iamd.FieldBusinessUnit: &e.upd.BusinessUnit, iamd.FieldOrganization: &e.upd.Organization, iamd.FieldManager: &e.upd.Manager}[field]
	*ptr = &v
}

func invalidPath(path string) error {
	return newError(http.StatusBadRequest, TypeInvalidPath, "The path "+path+" names no attribute that can be set.")
}

func invalidValue(path string) error {
	return newError(http.StatusBadRequest, TypeInvalidValue, "The value for "+path+" has the wrong type.")
}

// pathKey reduces a PATCH path to a key of writable: the schema URN of the core or the
// enterprise extension is dropped, and a value filter on the one work value
// (emails[type eq "work"].value) names that value.
func pathKey(path string) (string, error) {
	p := strings.TrimSpace(path)
	lower := strings.ToLower(p)
	for _, urn := range []string{SchemaUser, SchemaEnterprise} {
		if strings.HasPrefix(lower, strings.ToLower(urn)+":") {
			p, lower = p[len(urn)+1:], lower[len(urn)+1:]
		}
	}
	if i := strings.IndexByte(p, '['); i >= 0 {
		j := strings.LastIndexByte(p, ']')
		if j < i {
			return "", invalidPath(path)
		}
		f, err := ParseFilter(p[i+1 : j])
		if err != nil {
			return "", newError(http.StatusBadRequest, TypeInvalidPath, "The value filter of "+path+" does not parse: "+err.Error())
		}
		where, err := userWhere(f, p[:i])
		if err != nil {
			return "", newError(http.StatusBadRequest, TypeInvalidPath, err.Error())
		}
		if _, ok := where.(iamd.AnyOf); ok { // a filter no value can match
			return "", newError(http.StatusBadRequest, TypeNoTarget, "No value matches "+path+".")
		}
		lower = strings.ToLower(p[:i] + p[j+1:])
		if !strings.Contains(lower, ".") {
			lower += ".value"
		}
	}
	return lower, nil
}

// apply sets the attribute at key from a JSON value.
func (e *edit) apply(key, shown string, raw json.RawMessage) error {
	if readOnly[key] || readOnly[strings.SplitN(key, ".", 2)[0]] {
		return newError(http.StatusBadRequest, TypeMutability, "The attribute "+shown+" cannot be changed here.")
	}
	switch key {
	case "name": // a complex value: its sub-attributes
		var sub map[string]json.RawMessage
		if json.Unmarshal(raw, &sub) != nil {
			return invalidValue(shown)
		}
		for k, v := range sub {
			if err := e.apply("name."+strings.ToLower(k), shown+"."+k, v); err != nil {
				return err
			}
		}
		return nil
	case "emails", "phonenumbers":
		var values []multiValueIn
		if json.Unmarshal(raw, &values) != nil {
			var one multiValueIn
			if json.Unmarshal(raw, &one) != nil {
				return invalidValue(shown)
			}
			values = []multiValueIn{one}
		}
		e.set(writable[key], pick(values))
		return nil
	case "active":
		var b flexBool
		if json.Unmarshal(raw, &b) != nil || !b.set {
			return invalidValue(shown)
		}
		status := iamd.UserActive
		if !b.value {
			status = iamd.UserSuspended
		}
		e.upd.Status = &status
		return nil
	case "roles":
		names, ok := readRoles(raw)
		if !ok {
			return newError(http.StatusBadRequest, TypeInvalidValue, "roles must be a list of {\"value\": role name}.")
		}
		op := e.op
		if op != "add" {
			op = "replace"
		}
		e.roles = append(e.roles, roleStep{op: op, names: names})
		return nil
	case "password":
		var pw string
		if json.Unmarshal(raw, &pw) != nil || pw == "" {
			return invalidValue(shown)
		}
		e.password = &pw
		return nil
	case "manager":
		id, ok := managerID(raw)
		if !ok {
			return invalidValue(shown)
		}
		e.set(iamd.FieldManager, id)
		return nil
	}
	field, ok := writable[key]
	if !ok {
		return invalidPath(shown)
	}
	var s *string
	if json.Unmarshal(raw, &s) != nil {
		return invalidValue(shown)
	}
	if s == nil {
		s = new(string)
	}
	e.set(field, *s)
	return nil
}

// managerID reads the enterprise manager in every form provisioners send: {"value": id}
// (RFC 7643 §4.3), a plain id, and a one-element list [{"$ref": null, "value": id}]
// (Entra's PATCH). null is no manager.
func managerID(raw json.RawMessage) (string, bool) {
	var m struct {
		Value string `json:"value"`
	}
	var list []struct {
		Value string `json:"value"`
	}
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", true
	case json.Unmarshal(raw, &m) == nil:
		return m.Value, true
	case json.Unmarshal(raw, &m.Value) == nil:
		return m.Value, true
	case json.Unmarshal(raw, &list) == nil && len(list) <= 1:
		if len(list) == 0 {
			return "", true
		}
		return list[0].Value, true
	}
	return "", false
}

// remove clears the attribute at key.
func (e *edit) remove(key, shown string) error {
	switch key {
	case "active":
		return newError(http.StatusBadRequest, TypeMutability, "active cannot be removed; set it to false.")
	case "password":
		return newError(http.StatusBadRequest, TypeMutability, "password cannot be removed; replace it.")
	case "roles":
		e.roles = append(e.roles, roleStep{op: "remove", all: true})
		return nil
	case "name":
		for _, k := range []string{"name.givenname", "name.familyname", "name.formatted"} {
			e.set(writable[k], "")
		}
		return nil
	}
	if readOnly[key] {
		return newError(http.StatusBadRequest, TypeMutability, "The attribute "+shown+" cannot be removed.")
	}
	field, ok := writable[key]
	if !ok {
		return invalidPath(shown)
	}
	e.set(field, "")
	return nil
}

type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// patchOps reads a PatchOp body's operations.
func patchOps(raw []byte) ([]patchOp, error) {
	var body struct {
		Schemas    []string  `json:"schemas"`
		Operations []patchOp `json:"Operations"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, newError(http.StatusBadRequest, TypeInvalidSyntax, "The body is not a PatchOp: "+err.Error())
	}
	if !listsSchema(body.Schemas, schemaPatchOp) || len(body.Operations) == 0 {
		return nil, newError(http.StatusBadRequest, TypeInvalidSyntax, "The body must be a PatchOp ("+schemaPatchOp+") with Operations.")
	}
	return body.Operations, nil
}

// patchUpdate turns a PatchOp body (RFC 7644 §3.5.2) into the core's update. Op names
// are case-insensitive (Entra sends "Replace"); an op without a path carries an object
// whose keys are paths (Entra sends "name.givenName" and URN-prefixed keys there).
func patchUpdate(raw []byte) (edit, error) {
	ops, err := patchOps(raw)
	if err != nil {
		return edit{}, err
	}
	var e edit
	for _, op := range ops {
		e.op = strings.ToLower(op.Op)
		switch e.op {
		case "add", "replace":
			if op.Path == "" {
				var attrs map[string]json.RawMessage
				if json.Unmarshal(op.Value, &attrs) != nil {
					return e, newError(http.StatusBadRequest, TypeInvalidValue, "An operation without a path needs an object value.")
				}
				for k, v := range attrs {
					if strings.EqualFold(k, SchemaEnterprise) { // the extension as an object
						var ext map[string]json.RawMessage
						if json.Unmarshal(v, &ext) != nil {
							return e, invalidValue(k)
						}
						for ek, ev := range ext {
							if err := e.apply(strings.ToLower(ek), ek, ev); err != nil {
								return e, err
							}
						}
						continue
					}
					key, err := pathKey(k)
					if err != nil {
						return e, err
					}
					if err := e.apply(key, k, v); err != nil {
						return e, err
					}
				}
				continue
			}
			key, err := pathKey(op.Path)
			if err != nil {
				return e, err
			}
			if err := e.apply(key, op.Path, op.Value); err != nil {
				return e, err
			}
		case "remove":
			if op.Path == "" {
				return e, newError(http.StatusBadRequest, TypeNoTarget, "A remove operation needs a path.")
			}
			if name, ok, err := roleValueFilter(op.Path); ok || err != nil {
				if err != nil {
					return e, err
				}
				e.roles = append(e.roles, roleStep{op: "remove", names: []string{name}})
				continue
			}
			key, err := pathKey(op.Path)
			if err != nil {
				return e, err
			}
			if err := e.remove(key, op.Path); err != nil {
				return e, err
			}
		default:
			return e, newError(http.StatusBadRequest, TypeInvalidSyntax, "Unknown operation "+op.Op+": add, remove or replace.")
		}
	}
	return e, nil
}
