package scim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"iamd"
)

// SchemaGroup is the core Group schema (RFC 7643 §4.2).
const SchemaGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"

type memberOut struct {
	Value   string `json:"value"`
	Ref     string `json:"$ref"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type"`
}

type groupOut struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id"`
	DisplayName string      `json:"displayName"`
	Members     []memberOut `json:"members"`
	Meta        metaOut     `json:"meta"`
}

func groupETag(g *iamd.Group) string { return `W/"` + strconv.FormatInt(g.Version, 10) + `"` }

// members lists every member of a group, a page at a time.
func (f *Face) members(r *http.Request, g *iamd.Group) ([]memberOut, error) {
	out := []memberOut{}
	filter := iamd.UserFilter{InstanceID: g.InstanceID, GroupID: g.ID, Sort: []iamd.UserSort{{Key: iamd.SortByLoginName}}, Limit: iamd.MaxPageSize}
	for {
		page, err := f.dir.ListUsers(r.Context(), filter)
		if err != nil {
			return nil, err
		}
		for _, u := range page.Users {
			display := u.DisplayName
			if display == "" {
				display = u.LoginName
			}
			out = append(out, memberOut{Value: u.ID, Ref: baseURL(r.Context()) + "/Users/" + u.ID, Display: display, Type: "User"})
		}
		filter.Offset += len(page.Users)
		if len(page.Users) == 0 || filter.Offset >= page.Total {
			return out, nil
		}
	}
}

func (f *Face) groupOut(r *http.Request, g *iamd.Group, withMembers bool) (groupOut, error) {
	out := groupOut{Schemas: []string{SchemaGroup}, ID: g.ID, DisplayName: g.Name, Members: []memberOut{},
		Meta: metaOut{ResourceType: "Group", Created: g.CreatedAt.UTC().Format(time.RFC3339), LastModified: g.UpdatedAt.UTC().Format(time.RFC3339),
			Location: baseURL(r.Context()) + "/Groups/" + g.ID, Version: groupETag(g)}}
	if withMembers {
		var err error
		if out.Members, err = f.members(r, g); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (f *Face) writeGroup(w http.ResponseWriter, r *http.Request, status int, g *iamd.Group) {
	out, err := f.groupOut(r, g, true)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.Header().Set("ETag", groupETag(g))
	if status == http.StatusCreated {
		w.Header().Set("Location", out.Meta.Location)
	}
	writeJSON(w, status, out)
}

// groupName reads a Groups filter: displayName eq "…" is the one the store runs (it is
// what provisioners send before creating a group).
func groupName(text string) (string, error) {
	if text == "" {
		return "", nil
	}
	parsed, err := ParseFilter(text)
	if err != nil {
		return "", err
	}
	c, ok := parsed.(*Compare)
	name, isString := "", false
	if ok {
		name, isString = c.Value.(string)
	}
	if !ok || !isString || c.Op != OpEq || c.Attr.Sub != "" || !strings.EqualFold(c.Attr.Name, "displayName") ||
		(c.Attr.URN != "" && !strings.EqualFold(c.Attr.URN, SchemaGroup)) {
		return "", &FilterError{0, `Groups can be filtered by displayName eq "…" only`}
	}
	return name, nil
}

func (f *Face) listGroups(w http.ResponseWriter, r *http.Request) {
	req, err := queryRequest(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	name, err := groupName(req.filter)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	start, count := max(req.startIndex, 1), min(max(req.count, 0), maxCount)
	page, err := f.dir.ListGroups(r.Context(), iamd.GroupFilter{InstanceID: iamd.PrincipalFromContext(r.Context()).InstanceID,
		Name: name, Offset: start - 1, Limit: max(count, 1)})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	withMembers := !slices.ContainsFunc(req.exclud, func(a string) bool { return strings.EqualFold(a, "members") })
	out := map[string]any{"schemas": []string{schemaListResponse}, "totalResults": page.Total, "startIndex": start}
	resources := []groupOut{}
	if count > 0 {
		for i := range page.Groups {
			g, err := f.groupOut(r, &page.Groups[i], withMembers)
			if err != nil {
				f.WriteError(w, r, err)
				return
			}
			resources = append(resources, g)
		}
	}
	out["itemsPerPage"], out["Resources"] = len(resources), resources
	writeJSON(w, http.StatusOK, out)
}

func (f *Face) findGroup(r *http.Request) (*iamd.Group, error) {
	g, err := f.dir.GetGroup(r.Context(), iamd.PrincipalFromContext(r.Context()).InstanceID, r.PathValue("id"))
	if iamd.ErrorCode(err) == iamd.ENOTFOUND || iamd.ErrorCode(err) == iamd.EINVALID {
		return nil, newError(http.StatusNotFound, "", "No group with id "+strconv.Quote(r.PathValue("id"))+".")
	}
	return g, err
}

// groupToChange finds the group of the path and holds it to If-Match.
func (f *Face) groupToChange(r *http.Request) (*iamd.Group, error) {
	g, err := f.findGroup(r)
	if err == nil && preconditionFailsVersion(r, groupETag(g)) {
		err = errPrecondition()
	}
	return g, err
}

func (f *Face) getGroup(w http.ResponseWriter, r *http.Request) {
	g, err := f.findGroup(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.writeGroup(w, r, http.StatusOK, g)
}

type memberIn struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

// memberIDs checks members: users of the instance, named by id. Groups as members are
// not supported (yet): the core has no nested groups.
func (f *Face) memberIDs(r *http.Request, raw json.RawMessage) ([]string, error) {
	var members []memberIn
	if err := json.Unmarshal(raw, &members); err != nil {
		var one memberIn
		if json.Unmarshal(raw, &one) != nil {
			return nil, newError(http.StatusBadRequest, TypeInvalidValue, "members must be a list of {\"value\": user id}.")
		}
		members = []memberIn{one}
	}
	var ids []string
	for _, m := range members {
		if m.Type != "" && !strings.EqualFold(m.Type, "User") {
			return nil, newError(http.StatusBadRequest, TypeInvalidValue, "Only users can be members here: groups do not nest.")
		}
		if _, err := f.dir.GetUser(r.Context(), iamd.PrincipalFromContext(r.Context()).InstanceID, m.Value); err != nil {
			if iamd.ErrorCode(err) == iamd.ENOTFOUND {
				return nil, newError(http.StatusBadRequest, TypeInvalidValue, "No user with id "+strconv.Quote(m.Value)+" to be a member.")
			}
			return nil, err
		}
		ids = append(ids, m.Value)
	}
	return ids, nil
}

type groupIn struct {
	Schemas     []string        `json:"schemas"`
	DisplayName string          `json:"displayName"`
	Members     json.RawMessage `json:"members"`
}

func readGroup(r *http.Request) (*groupIn, error) {
	raw, err := readBody(r)
	if err != nil {
		return nil, err
	}
	var in groupIn
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, newError(http.StatusBadRequest, TypeInvalidSyntax, "The body is not a Group: "+err.Error())
	}
	if !listsSchema(in.Schemas, SchemaGroup) {
		return nil, newError(http.StatusBadRequest, TypeInvalidValue, "schemas must list "+SchemaGroup+".")
	}
	if in.DisplayName == "" {
		return nil, newError(http.StatusBadRequest, TypeInvalidValue, "displayName is required.")
	}
	return &in, nil
}

func (f *Face) createGroup(w http.ResponseWriter, r *http.Request) {
	in, err := readGroup(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	var ids []string
	if len(in.Members) > 0 && string(in.Members) != "null" {
		if ids, err = f.memberIDs(r, in.Members); err != nil { // all checked before anything is written
			f.WriteError(w, r, err)
			return
		}
	}
	inst := iamd.PrincipalFromContext(r.Context()).InstanceID
	if page, err := f.dir.ListGroups(r.Context(), iamd.GroupFilter{InstanceID: inst, Name: in.DisplayName, Limit: 1}); err != nil {
		f.WriteError(w, r, err)
		return
	} else if page.Total > 0 {
		f.WriteError(w, r, newError(http.StatusConflict, TypeUniqueness, "A group named "+strconv.Quote(in.DisplayName)+" exists."))
		return
	}
	g, err := f.dir.CreateGroup(r.Context(), &iamd.Group{InstanceID: inst, Name: in.DisplayName})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	if len(ids) > 0 {
		if err := f.dir.AddGroupMembers(r.Context(), inst, g.ID, ids); err != nil {
			f.WriteError(w, r, err)
			return
		}
	}
	f.writeGroup(w, r, http.StatusCreated, g)
}

// setMembers makes the group's members exactly ids.
func (f *Face) setMembers(r *http.Request, g *iamd.Group, ids []string) error {
	current, err := f.members(r, g)
	if err != nil {
		return err
	}
	var add, remove []string
	for _, m := range current {
		if !slices.Contains(ids, m.Value) {
			remove = append(remove, m.Value)
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(current, func(m memberOut) bool { return m.Value == id }) {
			add = append(add, id)
		}
	}
	if len(add) > 0 {
		if err := f.dir.AddGroupMembers(r.Context(), g.InstanceID, g.ID, add); err != nil {
			return err
		}
	}
	if len(remove) > 0 {
		return f.dir.RemoveGroupMembers(r.Context(), g.InstanceID, g.ID, remove)
	}
	return nil
}

func (f *Face) replaceGroup(w http.ResponseWriter, r *http.Request) {
	g, err := f.groupToChange(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	in, err := readGroup(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	ids := []string{}
	if len(in.Members) > 0 && string(in.Members) != "null" {
		if ids, err = f.memberIDs(r, in.Members); err != nil {
			f.WriteError(w, r, err)
			return
		}
	}
	if g, err = f.dir.UpdateGroup(r.Context(), g.InstanceID, g.ID, &in.DisplayName, nil); err != nil {
		f.WriteError(w, r, err)
		return
	}
	if err := f.setMembers(r, g, ids); err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.writeGroup(w, r, http.StatusOK, g)
}

// patchGroup applies a PatchOp to a group: displayName, and members added, removed
// (all, a list, or members[value eq "…"]) or replaced. Entra expects 200 or 204.
func (f *Face) patchGroup(w http.ResponseWriter, r *http.Request) {
	g, err := f.groupToChange(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	raw, err := readBody(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	ops, err := patchOps(raw)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	// Every operation is checked before any is applied, so a refused PATCH changes nothing.
	type step struct {
		op   string
		name *string
		ids  []string
		all  bool
	}
	var steps []step
	for _, op := range ops {
		kind := strings.ToLower(op.Op)
		path := strings.TrimSpace(op.Path)
		lower := strings.ToLower(path)
		switch {
		case kind != "add" && kind != "replace" && kind != "remove":
			f.WriteError(w, r, newError(http.StatusBadRequest, TypeInvalidSyntax, "Unknown operation "+op.Op+": add, remove or replace."))
			return
		case path == "" && kind != "remove":
			var attrs map[string]json.RawMessage
			if json.Unmarshal(op.Value, &attrs) != nil {
				f.WriteError(w, r, newError(http.StatusBadRequest, TypeInvalidValue, "An operation without a path needs an object value."))
				return
			}
			for k, v := range attrs {
				switch strings.ToLower(k) {
				case "displayname":
					var name string
					if json.Unmarshal(v, &name) != nil || name == "" {
						f.WriteError(w, r, newError(http.StatusBadRequest, TypeInvalidValue, "displayName must be a non-empty string."))
						return
					}
					steps = append(steps, step{op: "name", name: &name})
				case "members":
					ids, err := f.memberIDs(r, v)
					if err != nil {
						f.WriteError(w, r, err)
						return
					}
					steps = append(steps, step{op: kind, ids: ids})
				case "id", "meta", "schemas", "externalid":
				default:
					f.WriteError(w, r, invalidPath(k))
					return
				}
			}
		case path == "":
			f.WriteError(w, r, newError(http.StatusBadRequest, TypeNoTarget, "A remove operation needs a path."))
			return
		case lower == "displayname":
			var name string
			if kind == "remove" || json.Unmarshal(op.Value, &name) != nil || name == "" {
				f.WriteError(w, r, newError(http.StatusBadRequest, TypeInvalidValue, "displayName must be a non-empty string."))
				return
			}
			steps = append(steps, step{op: "name", name: &name})
		case lower == "members":
			if kind == "remove" && (len(op.Value) == 0 || string(op.Value) == "null") {
				steps = append(steps, step{op: "remove", all: true})
				continue
			}
			ids, err := f.memberIDs(r, op.Value)
			if err != nil {
				f.WriteError(w, r, err)
				return
			}
			steps = append(steps, step{op: kind, ids: ids})
		case strings.HasPrefix(lower, "members[") && strings.HasSuffix(lower, "]") && kind == "remove":
			parsed, err := ParseFilter(path[len("members[") : len(path)-1])
			c, ok := parsed.(*Compare)
			id, isString := "", false
			if ok {
				id, isString = c.Value.(string)
			}
			if err != nil || !ok || !isString || c.Op != OpEq || !strings.EqualFold(c.Attr.Name, "value") {
				f.WriteError(w, r, newError(http.StatusBadRequest, TypeInvalidPath, `A member is named as members[value eq "id"].`))
				return
			}
			steps = append(steps, step{op: "remove", ids: []string{id}})
		default:
			f.WriteError(w, r, invalidPath(path))
			return
		}
	}
	for _, s := range steps {
		switch {
		case s.op == "name":
			if g, err = f.dir.UpdateGroup(r.Context(), g.InstanceID, g.ID, s.name, nil); err != nil {
				f.WriteError(w, r, err)
				return
			}
		case s.op == "replace":
			err = f.setMembers(r, g, s.ids)
		case s.op == "add" && len(s.ids) > 0:
			err = f.dir.AddGroupMembers(r.Context(), g.InstanceID, g.ID, s.ids)
		case s.op == "remove" && s.all:
			err = f.setMembers(r, g, nil)
		case s.op == "remove" && len(s.ids) > 0:
			err = f.dir.RemoveGroupMembers(r.Context(), g.InstanceID, g.ID, s.ids)
		}
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
	}
	f.writeGroup(w, r, http.StatusOK, g)
}

func (f *Face) deleteGroup(w http.ResponseWriter, r *http.Request) {
	g, err := f.groupToChange(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	if err := f.dir.DeleteGroup(r.Context(), g.InstanceID, g.ID); err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
