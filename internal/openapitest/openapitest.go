// Package openapitest checks HTTP responses against a face's OpenAPI 3.1 document, so
// that every face's tests hold its responses to what it publishes.
package openapitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator holds a parsed document routed at a live server.
type Validator struct {
	doc         *openapi3.T
	router      routers.Router
	errorSchema string
}

// New parses doc (which must be valid OpenAPI 3.1), serves it at serverURL, and names
// the component schema that answers for paths outside the API (the catch-all 404).
func New(t testing.TB, doc []byte, serverURL, errorSchema string) *Validator {
	t.Helper()
	d, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !d.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %s, want 3.1", d.OpenAPI)
	}
	if err := d.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	if d.Components == nil || d.Components.Schemas[errorSchema] == nil {
		t.Fatalf("the OpenAPI document has no %s schema", errorSchema)
	}
	d.Servers = openapi3.Servers{{URL: serverURL}}
	router, err := gorillamux.NewRouter(d)
	if err != nil {
		t.Fatal(err)
	}
	return &Validator{doc: d, router: router, errorSchema: errorSchema}
}

// Check fails t unless the response matches the document: its route's, or for paths
// outside the API the error schema.
func (v *Validator) Check(t testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	t.Helper()
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		var shape any
		if err := json.Unmarshal(body, &shape); err != nil {
			t.Fatalf("%s %s → %d: not JSON: %s", req.Method, req.URL, status, body)
		}
		if err := v.doc.Components.Schemas[v.errorSchema].Value.VisitJSON(shape); err != nil {
			t.Fatalf("%s %s → %d: body does not match %s: %v", req.Method, req.URL, status, v.errorSchema, err)
		}
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Fatalf("%s %s → %d does not match the OpenAPI document: %v\n%s", req.Method, req.URL, status, err, body)
	}
}
