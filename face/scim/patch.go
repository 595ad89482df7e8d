package scim

import (
	"encoding/json"
	"net/http"
	"strings"
)

const schemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

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

func invalidPath(path string) error {
	return newError(http.StatusBadRequest, TypeInvalidPath, "The path "+path+" names no attribute that can be set.")
}

func invalidValue(path string) error {
	return newError(http.StatusBadRequest, TypeInvalidValue, "The value for "+path+" has the wrong type.")
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
