package ece_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"

	"iamd/face/ece"
)

var update = flag.Bool("update", false, "rewrite openapi.json from Elastic's api/apidocs.json")

// served lists the operations of Elastic's API this face serves, by path and method.
var served = map[string][]string{
	"/users":                                  {"GET", "POST"},
	"/users/{user_name}":                      {"GET", "PATCH", "DELETE"},
	"/user":                                   {"GET", "PATCH"},
	"/users/auth":                             {"GET"},
	"/users/auth/_login":                      {"POST"},
	"/users/auth/_refresh":                    {"POST"},
	"/users/auth/_logout":                     {"POST"},
	"/users/auth/methods":                     {"GET"},
	"/users/auth/keys":                        {"GET", "POST", "DELETE"},
	"/users/auth/keys/_all":                   {"GET", "DELETE"},
	"/users/auth/keys/{api_key_id}":           {"GET", "DELETE"},
	"/users/{user_id}/auth/keys":              {"GET", "DELETE"},
	"/users/{user_id}/auth/keys/{api_key_id}": {"GET", "DELETE"},
}

// elasticDocument reads api/apidocs.json from the pinned cloud-sdk-go module.
func elasticDocument(t *testing.T) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/elastic/cloud-sdk-go").Output()
	if err != nil {
		t.Fatalf("locating github.com/elastic/cloud-sdk-go: %v", err)
	}
	doc, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "api", "apidocs.json"))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

var schemaRef = regexp.MustCompile(`"#/components/schemas/([A-Za-z0-9_.-]+)"`)

// faceDocument is Elastic's document, in OpenAPI 3.1, cut down to the served operations
// and the schemas they use. Each operation also gets a default response in ECE's error
// shape: ECE answers 401 and 403 on every route, which Elastic's document leaves out;
// and each 400's list of error codes gains the two for bodies it cannot take.
func faceDocument(t *testing.T, elastic []byte) []byte {
	t.Helper()
	var v2 openapi2.T
	if err := json.Unmarshal(elastic, &v2); err != nil {
		t.Fatal(err)
	}
	v3, err := openapi2conv.ToV3(&v2)
	if err != nil {
		t.Fatal(err)
	}
	paths := openapi3.NewPaths()
	for path, methods := range served {
		item := v3.Paths.Value(path)
		if item == nil {
			t.Fatalf("Elastic's document has no %s", path)
		}
		kept := &openapi3.PathItem{Parameters: item.Parameters}
		for _, m := range methods {
			op := item.GetOperation(m)
			if op == nil {
				t.Fatalf("Elastic's document has no %s %s", m, path)
			}
			// A malformed body, or one the core refuses for a reason Elastic lists no code
			// for (a password the policy rejects, an unknown field), is a 400 too.
			if bad := op.Responses.Status(400); bad != nil && bad.Value != nil {
				if h := bad.Value.Headers["x-cloud-error-codes"]; h != nil && h.Value != nil && h.Value.Schema != nil &&
					h.Value.Schema.Value != nil && len(h.Value.Schema.Value.Enum) > 0 {
					h.Value.Schema.Value.Enum = append(h.Value.Schema.Value.Enum, ece.CodeMalformed, ece.CodeUserInvalid)
				}
			}
			if op.Responses.Default() == nil {
				op.Responses.Set("default", &openapi3.ResponseRef{Value: openapi3.NewResponse().
					WithDescription("An error, in ECE's error shape").
					WithJSONSchemaRef(openapi3.NewSchemaRef("#/components/schemas/BasicFailedReply", nil))})
			}
			kept.SetOperation(m, op)
		}
		paths.Set(path, kept)
	}
	pathsJSON, err := json.Marshal(paths)
	if err != nil {
		t.Fatal(err)
	}
	schemas := openapi3.Schemas{}
	todo := []string{"BasicFailedReply"}
	for _, m := range schemaRef.FindAllStringSubmatch(string(pathsJSON), -1) {
		todo = append(todo, m[1])
	}
	for len(todo) > 0 {
		name := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if _, done := schemas[name]; done {
			continue
		}
		s := v3.Components.Schemas[name]
		if s == nil {
			t.Fatalf("Elastic's document has no schema %s", name)
		}
		schemas[name] = s
		raw, _ := json.Marshal(s)
		for _, m := range schemaRef.FindAllStringSubmatch(string(raw), -1) {
			todo = append(todo, m[1])
		}
	}
	doc := openapi3.T{OpenAPI: "3.1.0", Info: &openapi3.Info{Title: "iamd ECE face: platform users",
		Version: v3.Info.Version, Description: "Elastic Cloud Enterprise's users and authentication API as iamd serves it, " +
			"cut from Elastic's api/apidocs.json (github.com/elastic/cloud-sdk-go). Every operation also answers errors in ECE's shape."},
		Servers: openapi3.Servers{{URL: "/api/v1"}}, Paths: paths, Components: &openapi3.Components{Schemas: schemas}}
	out, err := json.MarshalIndent(&doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// elasticOperations lists every operation of Elastic's document, sorted by id.
func elasticOperations(t *testing.T, elastic []byte) []byte {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(elastic, &doc); err != nil {
		t.Fatal(err)
	}
	type operation struct {
		ID     string `json:"id"`
		Method string `json:"method"`
		Path   string `json:"path"`
	}
	var ops []operation
	for path, methods := range doc.Paths {
		for method, raw := range methods {
			var op struct {
				ID string `json:"operationId"`
			}
			if method == "parameters" || json.Unmarshal(raw, &op) != nil || op.ID == "" {
				continue
			}
			ops = append(ops, operation{ID: op.ID, Method: strings.ToUpper(method), Path: path})
		}
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.ID, b.ID) })
	out, err := json.MarshalIndent(ops, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func TestOperationsAreElastics(t *testing.T) {
	want := elasticOperations(t, elasticDocument(t))
	if *update {
		if err := os.WriteFile("operations.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("operations.json")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("operations.json differs from Elastic's api/apidocs.json (%v); run go test ./face/ece -run Operations -update", err)
	}
}

// The face's document is Elastic's, for the operations it serves: regenerated from the
// pinned module and compared byte for byte.
func TestOpenAPIAgreesWithElastic(t *testing.T) {
	want := faceDocument(t, elasticDocument(t))
	if *update {
		if err := os.WriteFile("openapi.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(ece.OpenAPIDocument(), want) {
		t.Fatal("openapi.json differs from Elastic's api/apidocs.json cut to the served operations; run go test ./face/ece -run OpenAPI -update")
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(want, &doc); err != nil {
		t.Fatal(err)
	}
	for path, methods := range served {
		for _, m := range methods {
			if doc.Paths[path][strings.ToLower(m)] == nil {
				t.Errorf("%s %s is served but not documented", m, path)
			}
		}
	}
	if got := len(doc.Paths); got != len(served) || !slices.Contains([]int{len(served)}, got) {
		t.Errorf("%d documented paths, %d served", got, len(served))
	}
}
