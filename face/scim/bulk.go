package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"iamd"
)

// Bulk limits (RFC 7644 §3.7.4), advertised in ServiceProviderConfig.
const (
	bulkMaxOperations = 1000
	// DefaultBulkMaxPayload is the largest /Bulk body unless Config says otherwise.
	DefaultBulkMaxPayload = 1 << 20
)

const (
	schemaBulkRequest  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	schemaBulkResponse = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	bulkIDPrefix       = "bulkId:"
)

type bulkOp struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId"`
	Version string          `json:"version"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data"`
}

type bulkResult struct {
	Location string          `json:"location,omitempty"`
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

// bulkRoutes are the operations a /Bulk request may hold: writes to Users and Groups.
func (f *Face) bulkRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /Users", f.createUser)
	mux.HandleFunc("PUT /Users/{id}", f.replaceUser)
	mux.HandleFunc("PATCH /Users/{id}", f.patchUser)
	mux.HandleFunc("DELETE /Users/{id}", f.deleteUser)
	mux.HandleFunc("POST /Groups", f.createGroup)
	mux.HandleFunc("PUT /Groups/{id}", f.replaceGroup)
	mux.HandleFunc("PATCH /Groups/{id}", f.patchGroup)
	mux.HandleFunc("DELETE /Groups/{id}", f.deleteGroup)
	return mux
}

// bulk runs a BulkRequest (RFC 7644 §3.7): each operation as its own request through
// the same handlers, with the caller's principal; "bulkId:x" anywhere in an
// operation's data or path becomes the id of the resource the POST with bulkId x
// created. An operation referring to one created later in the request waits for it;
// failOnErrors stops after that many failures. Operations are not one transaction:
// each one's effect stands, as the RFC has it.
func (f *Face) bulk(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, f.bulkMaxPayload+1))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || int64(len(raw)) > f.bulkMaxPayload {
		f.WriteError(w, r, newError(http.StatusRequestEntityTooLarge, "",
			fmt.Sprintf("The size of the bulk operation exceeds the maxPayloadSize (%d).", f.bulkMaxPayload)))
		return
	} else if err != nil {
		f.WriteError(w, r, err)
		return
	}
	var req struct {
		Schemas      []string `json:"schemas"`
		FailOnErrors *int     `json:"failOnErrors"`
		Operations   []bulkOp `json:"Operations"`
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		f.WriteError(w, r, newError(http.StatusBadRequest, TypeInvalidSyntax, "The body is not a BulkRequest: "+err.Error()))
		return
	}
	switch {
	case !listsSchema(req.Schemas, schemaBulkRequest):
		f.WriteError(w, r, newError(http.StatusBadRequest, TypeInvalidSyntax, "schemas must list "+schemaBulkRequest+"."))
		return
	case len(req.Operations) > bulkMaxOperations:
		f.WriteError(w, r, newError(http.StatusRequestEntityTooLarge, "",
			fmt.Sprintf("The bulk request holds %d operations, more than the maxOperations (%d).", len(req.Operations), bulkMaxOperations)))
		return
	case req.FailOnErrors != nil && *req.FailOnErrors < 1:
		f.WriteError(w, r, newError(http.StatusBadRequest, TypeInvalidValue, "failOnErrors must be 1 or more."))
		return
	}

	// Every bulkId must be unique; a POST must have one (RFC 7644 §3.7), and only what
	// a POST creates can be referred to.
	defined := map[string]int{}
	for i, op := range req.Operations {
		if op.BulkID == "" || !strings.EqualFold(op.Method, http.MethodPost) {
			continue
		}
		if _, dup := defined[op.BulkID]; dup {
			f.WriteError(w, r, newError(http.StatusBadRequest, TypeInvalidValue, "bulkId "+strconv.Quote(op.BulkID)+" is used twice."))
			return
		}
		defined[op.BulkID] = i
	}

	run := &bulkRun{face: f, r: r, ops: req.Operations, defined: defined, created: map[string]string{},
		failed: map[string]bool{}, results: make([]*bulkResult, len(req.Operations))}
	if req.FailOnErrors != nil {
		run.failLimit = *req.FailOnErrors
	}
	run.all()
	out := struct {
		Schemas    []string     `json:"schemas"`
		Operations []bulkResult `json:"Operations"`
	}{Schemas: []string{schemaBulkResponse}, Operations: []bulkResult{}}
	for _, res := range run.results {
		if res != nil {
			out.Operations = append(out.Operations, *res)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type bulkRun struct {
	face      *Face
	r         *http.Request
	ops       []bulkOp
	defined   map[string]int    // bulkId → the operation that creates it
	created   map[string]string // bulkId → the id of what it created
	failed    map[string]bool   // bulkIds whose POST failed
	results   []*bulkResult
	errors    int
	failLimit int // 0: no limit
}

// all runs the operations in order, each as soon as the bulkIds it refers to are
// created; what can never be resolved (a cycle, or a reference to a failed POST) fails
// with 409.
func (b *bulkRun) all() {
	pending := make([]int, len(b.ops))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 {
		var waiting []int
		for _, i := range pending {
			if b.stopped() {
				return
			}
			refs := bulkRefs(b.ops[i])
			if missing := b.unresolved(refs); missing != "" {
				if _, later := b.defined[missing]; later && !b.failed[missing] {
					waiting = append(waiting, i)
					continue
				}
				b.fail(i, b.refError(missing))
				continue
			}
			b.run(i)
		}
		if len(waiting) == len(pending) { // no progress: the references form a cycle
			for _, i := range waiting {
				if b.stopped() {
					return
				}
				b.fail(i, newError(http.StatusConflict, TypeInvalidValue,
					"The bulkId references of this operation form a cycle that cannot be resolved."))
			}
			return
		}
		pending = waiting
	}
}

func (b *bulkRun) stopped() bool { return b.failLimit > 0 && b.errors >= b.failLimit }

func (b *bulkRun) unresolved(refs []string) string {
	for _, ref := range refs {
		if _, ok := b.created[ref]; !ok {
			return ref
		}
	}
	return ""
}

func (b *bulkRun) refError(missing string) error {
	if _, ok := b.defined[missing]; ok {
		return newError(http.StatusConflict, TypeInvalidValue, "The operation with bulkId "+strconv.Quote(missing)+" failed, so nothing can refer to it.")
	}
	return newError(http.StatusBadRequest, TypeInvalidValue, "No operation of this request has bulkId "+strconv.Quote(missing)+".")
}

// fail records an operation that was not run.
func (b *bulkRun) fail(i int, err error) {
	op := b.ops[i]
	rec := &bulkRecorder{header: http.Header{}}
	b.face.WriteError(rec, b.r, err)
	b.record(i, op, rec)
}

func (b *bulkRun) record(i int, op bulkOp, rec *bulkRecorder) {
	res := &bulkResult{Method: strings.ToUpper(op.Method), BulkID: op.BulkID, Status: strconv.Itoa(rec.status),
		Location: rec.header.Get("Location"), Version: rec.header.Get("ETag")}
	var body struct {
		ID   string `json:"id"`
		Meta struct {
			Location string `json:"location"`
		} `json:"meta"`
	}
	json.Unmarshal(rec.body.Bytes(), &body)
	if res.Location == "" {
		res.Location = body.Meta.Location
	}
	if rec.status >= 400 {
		res.Response = bytes.TrimSpace(rec.body.Bytes())
		b.errors++
		if op.BulkID != "" {
			b.failed[op.BulkID] = true
		}
	} else if op.BulkID != "" && res.Method == http.MethodPost {
		b.created[op.BulkID] = body.ID
	}
	b.results[i] = res
}

// run performs one operation through the face's handlers.
func (b *bulkRun) run(i int) {
	if b.r.Context().Err() != nil {
		// The request's deadline passed: the operations not yet run are refused without
		// running, rather than each spending a password hash only to fail at the store.
		b.fail(i, iamd.Errorf(iamd.EUNAVAILABLE, "The bulk request ran out of time before this operation; send it again."))
		return
	}
	op := b.ops[i]
	method := strings.ToUpper(op.Method)
	path := b.substitute(op.Path)
	switch {
	case method != http.MethodPost && method != http.MethodPut && method != http.MethodPatch && method != http.MethodDelete:
		b.fail(i, newError(http.StatusBadRequest, TypeInvalidValue, "method must be POST, PUT, PATCH or DELETE."))
		return
	case method == http.MethodPost && op.BulkID == "":
		b.fail(i, newError(http.StatusBadRequest, TypeInvalidValue, "A POST operation needs a bulkId."))
		return
	case !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#"):
		b.fail(i, newError(http.StatusBadRequest, TypeInvalidValue, "path must be a resource path such as /Users or /Users/{id}."))
		return
	}
	var body io.Reader = http.NoBody
	if len(op.Data) > 0 && method != http.MethodDelete {
		data, err := substituteJSON(op.Data, b.created)
		if err != nil {
			b.fail(i, newError(http.StatusBadRequest, TypeInvalidSyntax, "data is not JSON: "+err.Error()))
			return
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(b.r.Context(), method, path, body)
	if err != nil {
		b.fail(i, newError(http.StatusBadRequest, TypeInvalidValue, "path must be a resource path such as /Users or /Users/{id}."))
		return
	}
	if op.Version != "" {
		req.Header.Set("If-Match", op.Version)
	}
	rec := &bulkRecorder{header: http.Header{}}
	if _, pattern := b.face.bulkMux.Handler(req); pattern == "" {
		b.fail(i, newError(http.StatusBadRequest, TypeInvalidValue, "No bulk operation "+method+" "+path+": Users and Groups can be written."))
		return
	}
	b.face.bulkMux.ServeHTTP(rec, req) // sets the path's values, which Handler does not
	b.record(i, op, rec)
}

// substitute replaces a "bulkId:x" path segment with what x created.
func (b *bulkRun) substitute(path string) string {
	segs := strings.Split(path, "/")
	for k, s := range segs {
		if id, ok := b.created[strings.TrimPrefix(s, bulkIDPrefix)]; ok && strings.HasPrefix(s, bulkIDPrefix) {
			segs[k] = id
		}
	}
	return strings.Join(segs, "/")
}

// bulkRefs lists the bulkIds an operation's path and data refer to.
func bulkRefs(op bulkOp) []string {
	var refs []string
	for _, s := range strings.Split(op.Path, "/") {
		if ref, ok := strings.CutPrefix(s, bulkIDPrefix); ok {
			refs = append(refs, ref)
		}
	}
	var data any
	if json.Unmarshal(op.Data, &data) == nil {
		walkStrings(data, func(s string) string {
			if ref, ok := strings.CutPrefix(s, bulkIDPrefix); ok {
				refs = append(refs, ref)
			}
			return s
		})
	}
	return refs
}

// substituteJSON replaces every string "bulkId:x" in data with created[x].
func substituteJSON(data json.RawMessage, created map[string]string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	v = walkStrings(v, func(s string) string {
		if id, ok := created[strings.TrimPrefix(s, bulkIDPrefix)]; ok && strings.HasPrefix(s, bulkIDPrefix) {
			return id
		}
		return s
	})
	return json.Marshal(v)
}

func walkStrings(v any, fn func(string) string) any {
	switch v := v.(type) {
	case string:
		return fn(v)
	case []any:
		for i := range v {
			v[i] = walkStrings(v[i], fn)
		}
	case map[string]any:
		for k := range v {
			v[k] = walkStrings(v[k], fn)
		}
	}
	return v
}

// bulkRecorder keeps one operation's response.
type bulkRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *bulkRecorder) Header() http.Header { return r.header }

func (r *bulkRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *bulkRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
