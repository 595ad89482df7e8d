package ece

import (
	_ "embed"
	"encoding/json"
	"slices"
	"strings"
)

// operation is one operation of Elastic's API document.
type operation struct {
	ID     string `json:"id"`
	Method string `json:"method"`
	Path   string `json:"path"`
}

// operationsJSON lists every operation of ECE's API, generated from Elastic's
// api/apidocs.json (the tests regenerate and compare it): a user's permissions are the
// ids of the operations its roles allow.
//
//go:embed operations.json
var operationsJSON []byte

var operations = func() []operation {
	var ops []operation
	if err := json.Unmarshal(operationsJSON, &ops); err != nil {
		panic("ece: operations.json: " + err.Error())
	}
	return ops
}()

// selfService are the operations on one's own account and credentials, which every
// role allows.
var selfService = []string{"get-current-user", "update-current-user", "login", "logout", "refresh-token",
	"get-authentication-info", "methods", "get-api-keys", "create-api-key", "delete-api-keys", "get-api-key", "delete-api-key"}

func under(op operation, prefixes ...string) bool {
	for _, p := range prefixes {
		if op.Path == p || strings.HasPrefix(op.Path, p+"/") {
			return true
		}
	}
	return false
}

// roleAllows is what each ECE role may do. ECE documents the roles but not their
// operation lists; these rules follow its role descriptions: platform admins do
// everything, platform viewers read everything, deployment managers manage deployments
// and read the stack versions they run on, deployment viewers read those.
var roleAllows = map[string]func(op operation) bool{
	rolePlatformAdmin:  func(operation) bool { return true },
	rolePlatformViewer: func(op operation) bool { return op.Method == "GET" },
	roleDeploymentManager: func(op operation) bool {
		return under(op, "/deployments") || (op.Method == "GET" && under(op, "/stack"))
	},
	roleDeploymentViewer: func(op operation) bool {
		return op.Method == "GET" && under(op, "/deployments", "/stack")
	},
}

// permissions lists, sorted, the operation ids roles allow.
func permissions(roles []string) []string {
	out := []string{}
	if len(roles) == 0 {
		return out
	}
	for _, op := range operations {
		allowed := slices.Contains(selfService, op.ID)
		for _, r := range roles {
			if allows := roleAllows[r]; allows != nil && allows(op) {
				allowed = true
			}
		}
		if allowed {
			out = append(out, op.ID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
