package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"iamd/face/wire"

	"iamd"
)

const schemaSearchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

// listRequest is a query (RFC 7644 §3.4.2) from URL parameters or a SearchRequest body.
type listRequest struct {
	filter             string
	sortBy, sortOrder  string
	startIndex, count  int
	attributes, exclud []string
}

// sortKeys are the attributes a listing can be sorted by: each has an index.
var sortKeys = map[string]string{
	"username": iamd.SortByLoginName, "displayname": iamd.SortByName,
	"meta.created": iamd.SortByCreatedAt, "meta.lastmodified": iamd.SortByUpdatedAt,
}

func splitList(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// returns tells whether the listed resources are to carry the attribute (of the
// resource's core schema), by attributes and excludedAttributes: so that what is costly
// to read is read only when it is shown.
func (req *listRequest) returns(attr string) bool {
	names := func(list []string) bool {
		return slices.ContainsFunc(list, func(a string) bool {
			a = strings.ToLower(a)
			return a == attr || strings.HasPrefix(a, attr+".") || strings.HasSuffix(a, ":"+attr) || strings.Contains(a, ":"+attr+".")
		})
	}
	return !names(req.exclud) && (len(req.attributes) == 0 || names(req.attributes))
}

// queryRequest reads the URL parameters of GET /Users.
func queryRequest(r *http.Request) (*listRequest, error) {
	q := r.URL.Query()
	req := &listRequest{filter: q.Get("filter"), sortBy: q.Get("sortBy"), sortOrder: q.Get("sortOrder"),
		attributes: splitList(q.Get("attributes")), exclud: splitList(q.Get("excludedAttributes"))}
	var err error
	for name, dst := range map[string]*int{"startIndex": &req.startIndex, "count": &req.count} {
		dflt := 1
		if name == "count" {
			dflt = defaultCount
		}
		*dst = dflt
		if v := q.Get(name); v != "" {
			if *dst, err = strconv.Atoi(v); err != nil {
				return nil, newError(http.StatusBadRequest, TypeInvalidValue, name+" must be an integer.")
			}
		}
	}
	return req, nil
}

// searchRequest reads a POST …/.search body (RFC 7644 §3.4.3).
func searchRequest(r *http.Request) (*listRequest, error) {
	raw, err := wire.ReadBody(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		Schemas            []string `json:"schemas"`
		Attributes         []string `json:"attributes"`
		ExcludedAttributes []string `json:"excludedAttributes"`
		Filter             string   `json:"filter"`
		SortBy             string   `json:"sortBy"`
		SortOrder          string   `json:"sortOrder"`
		StartIndex         *int     `json:"startIndex"`
		Count              *int     `json:"count"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, newError(http.StatusBadRequest, TypeInvalidSyntax, "The body is not a SearchRequest: "+err.Error())
	}
	if !listsSchema(body.Schemas, schemaSearchRequest) {
		return nil, newError(http.StatusBadRequest, TypeInvalidSyntax, "schemas must list "+schemaSearchRequest+".")
	}
	req := &listRequest{filter: body.Filter, sortBy: body.SortBy, sortOrder: body.SortOrder, startIndex: 1, count: defaultCount,
		attributes: body.Attributes, exclud: body.ExcludedAttributes}
	if body.StartIndex != nil {
		req.startIndex = *body.StartIndex
	}
	if body.Count != nil {
		req.count = *body.Count
	}
	return req, nil
}

func (f *Face) listUsers(w http.ResponseWriter, r *http.Request) {
	req, err := queryRequest(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.list(w, r, req)
}

func (f *Face) searchUsers(w http.ResponseWriter, r *http.Request) {
	req, err := searchRequest(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.list(w, r, req)
}

func (f *Face) list(w http.ResponseWriter, r *http.Request, req *listRequest) {
	start, count := req.window()
	buf := listBuffers.Get().(*[]byte)
	defer listBuffers.Put(buf)
	total, resources, err := f.userPage(r, req, start-1, count, buf)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeList(w, total, start, resources)
}

// window is the request's startIndex and count as RFC 7644 §3.4.2.4 reads them: less
// than 1 is 1; a negative count is 0; above the maximum, the maximum.
func (req *listRequest) window() (start, count int) {
	return max(req.startIndex, 1), min(max(req.count, 0), maxCount)
}

// writeList answers a page of resources, each a resource type's struct or a document.

// userPage runs a Users query: the number of matches, and count of them from offset.
// Users written straight from their records are appended to buf, which must outlive the
// resources.
func (f *Face) userPage(r *http.Request, req *listRequest, offset, count int, buf *[]byte) (int, []any, error) {
	sort := iamd.UserSort{Key: iamd.SortByCreatedAt}
	if req.sortBy != "" {
		path := strings.ToLower(strings.TrimSpace(req.sortBy))
		path = strings.TrimPrefix(path, strings.ToLower(SchemaUser)+":")
		if sort.Key = sortKeys[path]; sort.Key == "" {
			return 0, nil, newError(http.StatusBadRequest, TypeInvalidValue,
				"sortBy must be userName, displayName, meta.created or meta.lastModified.")
		}
	}
	switch strings.ToLower(req.sortOrder) {
	case "", "ascending":
	case "descending":
		sort.Descending = true
	default:
		return 0, nil, newError(http.StatusBadRequest, TypeInvalidValue, "sortOrder must be ascending or descending.")
	}
	filter := iamd.UserFilter{InstanceID: iamd.PrincipalFromContext(r.Context()).InstanceID,
		Sort: []iamd.UserSort{sort}, Offset: offset, Limit: max(count, 1), WithGroups: req.returns("groups"),
		WithRoles: req.returns("roles")}
	if req.filter != "" {
		parsed, err := ParseFilter(req.filter)
		if err != nil {
			return 0, nil, err
		}
		if r.Method == http.MethodGet && filtersSensitive(parsed) { // RFC 7644 §7.5.2
			return 0, nil, newError(http.StatusForbidden, TypeSensitive,
				"A filter on password would carry a secret in the request URI; no filter can compare it.")
		}
		if filter.Where, err = UserWhere(parsed); err != nil {
			return 0, nil, err
		}
		if n := iamd.WhereTerms(filter.Where); n > iamd.MaxWhereTerms {
			return 0, nil, newError(http.StatusBadRequest, TypeTooMany,
				fmt.Sprintf("The filter holds %d comparisons; this server evaluates at most %d in one request.", n, iamd.MaxWhereTerms))
		}
	}
	page, err := f.dir.ListUsers(r.Context(), filter)
	if err != nil {
		return 0, nil, err
	}
	var resources []any
	if count > 0 {
		resources = userResources(r.Context(), page.Users, req.attributes, req.exclud, buf)
	}
	return page.Total, resources, nil
}

// userResource is u as an answer shows it, with attributes and excludedAttributes
// applied. A user is answered on most requests and a page holds a hundred, so the
// document is built only when it must be: a user without kept attributes, asked for
// without attributes or excludedAttributes, is written straight from toSCIM's struct,
// whose fields are in the order encoding/json gives a map's keys, so the bytes are
// those userDoc's document would make.
// userResources is a page's users as its resources. Those written straight from their
// records are appended to buf, a page's worth of buffer used again from page to page.
func userResources(ctx context.Context, users []iamd.User, attributes, excluded []string, buf *[]byte) []any {
	resources := make([]any, 0, len(users))
	base := baseURL(ctx)
	b := (*buf)[:0]
	for i := range users {
		u := &users[i]
		if u.Extra != "" || len(attributes) > 0 || len(excluded) > 0 {
			resources = append(resources, userResource(ctx, u, attributes, excluded))
			continue
		}
		start := len(b)
		b = appendUser(b, base, u)
		resources = append(resources, encoded(b[start:len(b):len(b)]))
	}
	*buf = b
	return resources
}

func userResource(ctx context.Context, u *iamd.User, attributes, excluded []string) any {
	if len(attributes) == 0 && len(excluded) == 0 {
		if u.Extra == "" {
			return encoded(appendUser(nil, baseURL(ctx), u))
		}
		return userDoc(ctx, u)
	}
	return project(userDoc(ctx, u), attributes, excluded)
}

// searchRoot answers a query on the server root (RFC 7644 §3.4.2.1, §3.4.3): every
// resource type, Users then Groups, as one list paged across both. A filter only one
// type can answer (userName …) selects from that type alone; sortBy orders the Users,
// and Groups keep their displayName order.
func (f *Face) searchRoot(w http.ResponseWriter, r *http.Request) {
	req, err := searchRequest(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.rootList(w, r, req)
}

// listRoot is searchRoot with the query in the URL (GET /?filter=…).
func (f *Face) listRoot(w http.ResponseWriter, r *http.Request) {
	req, err := queryRequest(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.rootList(w, r, req)
}

func (f *Face) rootList(w http.ResponseWriter, r *http.Request, req *listRequest) {
	start, count := req.window()
	buf := listBuffers.Get().(*[]byte)
	defer listBuffers.Put(buf)
	users, userRes, userErr := f.userPage(r, req, start-1, count, buf)
	var filterErr *FilterError
	if userErr != nil && !errors.As(userErr, &filterErr) {
		f.WriteError(w, r, userErr)
		return
	}
	groupReq := *req
	groupReq.sortBy, groupReq.sortOrder = "", ""
	groupOffset := max(start-1-users, 0)
	groups, groupRes, groupErr := f.groupPage(r, &groupReq, groupOffset, count-len(userRes))
	if groupErr != nil && !errors.As(groupErr, &filterErr) {
		f.WriteError(w, r, groupErr)
		return
	}
	if userErr != nil && groupErr != nil { // no type can answer the filter
		f.WriteError(w, r, userErr)
		return
	}
	writeList(w, users+groups, start, append(userRes, groupRes...))
}

// alwaysReturned are the attributes RFC 7643 returns whatever attributes asks.
var alwaysReturned = map[string]bool{"id": true, "schemas": true}

// project applies attributes / excludedAttributes (RFC 7644 §3.4.2.5) to a resource:
// with attributes, only those (and id, schemas) are returned; excludedAttributes drops
// the ones named. Names are case-insensitive, may carry their schema URN, and may name
// a sub-attribute (name.givenName).
func project(resource any, attributes, excluded []string) map[string]any {
	if m, isDoc := resource.(map[string]any); isDoc && len(attributes) == 0 && len(excluded) == 0 {
		return m // nothing to drop: the document as it is, as a GET answers it
	}
	// A copy to drop from: a document passed in stays whole.
	raw, _ := json.Marshal(resource)
	var m map[string]any
	json.Unmarshal(raw, &m)
	norm := func(list []string) map[string]map[string]bool { // top → subs (nil: whole)
		out := map[string]map[string]bool{}
		for _, a := range list {
			a = strings.ToLower(a)
			for _, urn := range []string{strings.ToLower(SchemaUser) + ":", strings.ToLower(SchemaGroup) + ":", strings.ToLower(SchemaEnterprise) + ":"} {
				if strings.HasPrefix(a, urn) {
					if urn == strings.ToLower(SchemaEnterprise)+":" {
						a = strings.ToLower(SchemaEnterprise) + "." + a[len(urn):]
					} else {
						a = a[len(urn):]
					}
				}
			}
			top, sub, hasSub := cutLast(a)
			if !hasSub {
				out[a] = nil
				continue
			}
			if subs, ok := out[top]; !ok || subs != nil {
				if subs == nil {
					subs = map[string]bool{}
				}
				subs[sub] = true
				out[top] = subs
			}
		}
		return out
	}
	keyOf := map[string]string{}
	for k := range m {
		keyOf[strings.ToLower(k)] = k
	}
	if len(attributes) > 0 {
		want := norm(attributes)
		for lower, k := range keyOf {
			subs, ok := want[lower]
			switch {
			case alwaysReturned[lower]:
			case !ok:
				delete(m, k)
			case subs != nil:
				if obj, isObj := m[k].(map[string]any); isObj {
					for sk := range obj {
						if !subs[strings.ToLower(sk)] {
							delete(obj, sk)
						}
					}
				}
			}
		}
	}
	for top, subs := range norm(excluded) {
		k, ok := keyOf[top]
		if !ok || alwaysReturned[top] {
			continue
		}
		if subs == nil {
			delete(m, k)
			continue
		}
		if obj, isObj := m[k].(map[string]any); isObj {
			for sk := range obj {
				if subs[strings.ToLower(sk)] {
					delete(obj, sk)
				}
			}
		}
	}
	return m
}

// cutLast splits "a.b" into "a", "b"; the enterprise URN ("…:2.0:user") holds dots of
// its own, so the split is at the last dot.
func cutLast(a string) (string, string, bool) {
	i := strings.LastIndexByte(a, '.')
	if i < 0 || strings.HasSuffix(a[:i], ":2") { // "…:2.0:user" alone
		return a, "", false
	}
	return a[:i], a[i+1:], true
}
