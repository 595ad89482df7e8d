package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"iamd/face/wire"

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
	ExternalID  string      `json:"externalId,omitempty"`
	DisplayName string      `json:"displayName"`
	Members     []memberOut `json:"members"`
	Meta        metaOut     `json:"meta"`
}

func groupETag(g *iamd.Group) string { return versionTag(g.Version) }

// members lists every member of a group, in one read of the core: its users, then the
// groups nested in it.
func (f *Face) members(r *http.Request, g *iamd.Group) ([]memberOut, error) {
	lists, err := f.dir.GroupMembersOf(r.Context(), g.InstanceID, []string{g.ID})
	if err != nil {
		return nil, err
	}
	return membersOut(r, lists[g.ID]), nil
}

// membersOut is a group's members as SCIM shows them: its users, then its nested groups.
func membersOut(r *http.Request, m iamd.GroupMemberList) []memberOut {
	out := make([]memberOut, 0, len(m.Users)+len(m.Groups))
	for _, u := range m.Users {
		display := u.DisplayName
		if display == "" {
			display = u.LoginName
		}
		out = append(out, memberOut{Value: u.ID, Ref: baseURL(r.Context()) + "/Users/" + u.ID, Display: display, Type: memberUser})
	}
	for _, g := range m.Groups {
		out = append(out, memberOut{Value: g.ID, Ref: baseURL(r.Context()) + "/Groups/" + g.ID, Display: g.Name, Type: memberGroup})
	}
	return out
}

// Member types (RFC 7643 §4.2).
const (
	memberUser  = "User"
	memberGroup = "Group"
)

// memberSet is the members a request names, by type; either are those it names without one.
type memberSet struct{ users, groups, either []string }

func (m memberSet) core() iamd.GroupMembers {
	return iamd.GroupMembers{Users: m.users, Groups: m.groups, Either: m.either}
}

// memberEither is the kind of a member named without a type.
const memberEither = ""

// memberPlan folds a PATCH's member operations, in order, into one change: adds and
// removes, or — from the last operation that replaces them all — the whole set.
type memberPlan struct {
	replace bool
	members map[string]string // id → memberUser or memberGroup: the set, when replace
	last    map[string]bool   // id → added (true) or removed (false), otherwise
	kind    map[string]string
}

func newMemberPlan() *memberPlan {
	return &memberPlan{members: map[string]string{}, last: map[string]bool{}, kind: map[string]string{}}
}

func (p *memberPlan) apply(op string, m memberSet, all bool) {
	if op == "replace" || all {
		p.replace, p.members = true, map[string]string{}
		if all {
			return
		}
		op = "add"
	}
	for kind, ids := range map[string][]string{memberUser: m.users, memberGroup: m.groups, memberEither: m.either} {
		for _, id := range ids {
			switch {
			case p.replace && op == "add":
				p.members[id] = kind
			case p.replace:
				delete(p.members, id)
			default:
				p.last[id], p.kind[id] = op == "add", kind
			}
		}
	}
}

// change puts the plan into c.
func (p *memberPlan) change(c *iamd.GroupChange) {
	set := func(m *iamd.GroupMembers, id, kind string) {
		switch kind {
		case memberGroup:
			m.Groups = append(m.Groups, id)
		case memberUser:
			m.Users = append(m.Users, id)
		default:
			m.Either = append(m.Either, id)
		}
	}
	if p.replace {
		var all iamd.GroupMembers
		for id, kind := range p.members {
			set(&all, id, kind)
		}
		c.Members = &all
		return
	}
	for id, added := range p.last {
		if added {
			set(&c.Add, id, p.kind[id])
		} else {
			set(&c.Remove, id, p.kind[id])
		}
	}
}

func (f *Face) groupOut(r *http.Request, g *iamd.Group, withMembers bool) (groupOut, error) {
	out := groupDoc(r, g)
	if withMembers {
		var err error
		if out.Members, err = f.members(r, g); err != nil {
			return out, err
		}
	}
	return out, nil
}

// groupDoc is g as SCIM shows it, without its members.
func groupDoc(r *http.Request, g *iamd.Group) groupOut {
	return groupOut{Schemas: []string{SchemaGroup}, ID: g.ID, ExternalID: g.ExternalID, DisplayName: g.Name, Members: []memberOut{},
		Meta: metaOut{ResourceType: "Group", Created: g.CreatedAt.UTC().Format(time.RFC3339), LastModified: g.UpdatedAt.UTC().Format(time.RFC3339),
			Location: baseURL(r.Context()) + "/Groups/" + g.ID, Version: groupETag(g)}}
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
	writeResource(w, r, status, out)
}

// groupQuery reads a Groups filter into the store's filter: what provisioners send —
// displayName eq "…" (Okta and Entra, before creating a group), and id eq "…" and
// members[value eq "…"] (Entra, checking a membership) — joined by and.
func groupQuery(text string, into *groupSelection) error {
	if text == "" {
		return nil
	}
	parsed, err := ParseFilter(text)
	if err != nil {
		return err
	}
	return groupTerms(parsed, into)
}

// groupSelection is a Groups filter as the store runs it, or one nothing can match.
type groupSelection struct {
	iamd.GroupFilter
	none bool // the filter asks one attribute for two values
}

func groupTerms(f Filter, into *groupSelection) error {
	unsupported := &FilterError{0, `Groups can be filtered by displayName eq "…", id eq "…", externalId eq "…" and members[value eq "…"], joined by and`}
	switch f := f.(type) {
	case *Logical:
		if f.Op != "and" {
			return unsupported
		}
		if err := groupTerms(f.Left, into); err != nil {
			return err
		}
		return groupTerms(f.Right, into)
	case *ValuePath:
		if !strings.EqualFold(f.Attr.Name, "members") || f.Attr.Sub != "" {
			return unsupported
		}
		c, ok := f.Filter.(*Compare)
		if !ok || c.Attr.Sub != "" || c.Attr.URN != "" {
			return unsupported
		}
		return groupCompare(&Compare{Attr: AttrPath{Name: "members", Sub: c.Attr.Name}, Op: c.Op, Value: c.Value}, into)
	case *Compare:
		return groupCompare(f, into)
	}
	return unsupported
}

func groupCompare(c *Compare, into *groupSelection) error {
	value, isString := c.Value.(string)
	if c.Op != OpEq || !isString || (c.Attr.URN != "" && !strings.EqualFold(c.Attr.URN, SchemaGroup)) {
		return &FilterError{0, `Groups can be filtered by displayName eq "…", id eq "…", externalId eq "…" and members[value eq "…"], joined by and`}
	}
	var dst *string
	switch path := strings.ToLower(c.Attr.String()); {
	case path == "displayname" || strings.HasSuffix(path, ":displayname"):
		dst = &into.Name
	case path == "id" || strings.HasSuffix(path, ":id"):
		dst = &into.ID
	case path == "externalid" || strings.HasSuffix(path, ":externalid"):
		dst = &into.ExternalID
	case path == "members.value" || strings.HasSuffix(path, ":members.value"):
		dst = &into.MemberID
	default:
		return &FilterError{0, fmt.Sprintf(`cannot filter Groups on %q: displayName, id, externalId and members.value can be`, c.Attr.String())}
	}
	if *dst != "" && *dst != value && (dst != &into.Name || !strings.EqualFold(*dst, value)) {
		into.none = true
	}
	*dst = value
	return nil
}

func (f *Face) listGroups(w http.ResponseWriter, r *http.Request) {
	req, err := queryRequest(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.groupList(w, r, req)
}

func (f *Face) searchGroups(w http.ResponseWriter, r *http.Request) {
	req, err := searchRequest(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.groupList(w, r, req)
}

// groupList answers a Groups query: filter, paging, and attributes / excludedAttributes
// (members are read only when they are returned). Groups are sorted by displayName.
func (f *Face) groupList(w http.ResponseWriter, r *http.Request, req *listRequest) {
	start, count := req.window()
	total, resources, err := f.groupPage(r, req, start-1, count)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeList(w, total, start, resources)
}

// groupPage runs a Groups query: the number of matches, and count of them from offset.
func (f *Face) groupPage(r *http.Request, req *listRequest, offset, count int) (int, []any, error) {
	if req.sortBy != "" && !strings.EqualFold(req.sortBy, "displayName") {
		return 0, nil, newError(http.StatusBadRequest, TypeInvalidValue, "Groups are sorted by displayName only.")
	}
	sel := groupSelection{GroupFilter: iamd.GroupFilter{InstanceID: iamd.PrincipalFromContext(r.Context()).InstanceID,
		Offset: offset, Limit: max(count, 1)}}
	if err := groupQuery(req.filter, &sel); err != nil {
		return 0, nil, err
	}
	if sel.none {
		return 0, nil, nil
	}
	page, err := f.dir.ListGroups(r.Context(), sel.GroupFilter)
	if err != nil {
		return 0, nil, err
	}
	withMembers := req.returns("members")
	var resources []any
	if count > 0 {
		var members map[string]iamd.GroupMemberList
		if withMembers && len(page.Groups) > 0 {
			// The page's members at once, rather than a read per group.
			ids := make([]string, len(page.Groups))
			for i := range page.Groups {
				ids[i] = page.Groups[i].ID
			}
			if members, err = f.dir.GroupMembersOf(r.Context(), sel.InstanceID, ids); err != nil {
				return 0, nil, err
			}
		}
		for i := range page.Groups {
			g := groupDoc(r, &page.Groups[i])
			if withMembers {
				g.Members = membersOut(r, members[g.ID])
			}
			if len(req.attributes) == 0 && len(req.exclud) == 0 { // as a GET answers it, members and all
				resources = append(resources, g)
				continue
			}
			res := project(g, req.attributes, req.exclud)
			if !withMembers {
				delete(res, "members")
			}
			resources = append(resources, res)
		}
	}
	return page.Total, resources, nil
}

func (f *Face) findGroup(r *http.Request) (*iamd.Group, error) {
	g, err := f.dir.GetGroup(r.Context(), iamd.PrincipalFromContext(r.Context()).InstanceID, r.PathValue("id"))
	if iamd.ErrorCode(err) == iamd.ENOTFOUND || iamd.ErrorCode(err) == iamd.EINVALID {
		return nil, groupNotFound(r)
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

func groupNotFound(r *http.Request) error {
	return newError(http.StatusNotFound, "", "No group with id "+strconv.Quote(r.PathValue("id"))+".")
}

// changeGroup makes the change edit asks of the path's group in one call to the core,
// held to If-Match, and answers the group as it then is.
func (f *Face) changeGroup(w http.ResponseWriter, r *http.Request, edit iamd.GroupEdit) {
	g, err := f.dir.ChangeGroup(r.Context(), iamd.PrincipalFromContext(r.Context()).InstanceID, r.PathValue("id"), ifMatchVersion(r),
		func(cur *iamd.Group) (*iamd.GroupChange, error) {
			if preconditionFailsVersion(r, groupETag(cur)) {
				return nil, errPrecondition()
			}
			return edit(cur)
		})
	if iamd.ErrorCode(err) == iamd.ENOTFOUND && iamd.ErrorField(err) == "" {
		err = groupNotFound(r)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.writeGroup(w, r, http.StatusOK, g)
}

func (f *Face) getGroup(w http.ResponseWriter, r *http.Request) {
	g, err := f.findGroup(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	if notModified(w, r, groupETag(g)) {
		return
	}
	f.writeGroup(w, r, http.StatusOK, g)
}

type memberIn struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

// readMembers reads members named by id, with their type (User, Group) or without one:
// then the user of that id if there is one, else the group, as the core finds.
func readMembers(raw json.RawMessage) (memberSet, error) {
	var set memberSet
	var members []memberIn
	if err := json.Unmarshal(raw, &members); err != nil {
		var one memberIn
		if json.Unmarshal(raw, &one) != nil {
			return set, newError(http.StatusBadRequest, TypeInvalidValue, "members must be a list of {\"value\": id, \"type\": \"User\" or \"Group\"}.")
		}
		members = []memberIn{one}
	}
	for _, m := range members {
		switch {
		case m.Type == "":
			set.either = append(set.either, m.Value)
		case strings.EqualFold(m.Type, memberUser):
			set.users = append(set.users, m.Value)
		case strings.EqualFold(m.Type, memberGroup):
			set.groups = append(set.groups, m.Value)
		default:
			return set, newError(http.StatusBadRequest, TypeInvalidValue, "A member's type is User or Group, not "+strconv.Quote(m.Type)+".")
		}
	}
	return set, nil
}

type groupIn struct {
	Schemas     []string        `json:"schemas"`
	ExternalID  string          `json:"externalId"`
	DisplayName string          `json:"displayName"`
	Members     json.RawMessage `json:"members"`
}

func readGroup(r *http.Request) (*groupIn, error) {
	raw, err := wire.ReadBody(r)
	if err != nil {
		return nil, err
	}
	return decodeGroup(raw)
}

func decodeGroup(raw []byte) (*groupIn, error) {
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
	var members memberSet
	if len(in.Members) > 0 && string(in.Members) != "null" {
		if members, err = readMembers(in.Members); err != nil {
			f.WriteError(w, r, err)
			return
		}
	}
	// The name's uniqueness is the core's (and the database's): two concurrent creates
	// of one name cannot both succeed.
	g, err := f.dir.CreateGroup(r.Context(), &iamd.Group{InstanceID: iamd.PrincipalFromContext(r.Context()).InstanceID,
		Name: in.DisplayName, ExternalID: in.ExternalID}, members.core())
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.writeGroup(w, r, http.StatusCreated, g)
}

func (f *Face) replaceGroup(w http.ResponseWriter, r *http.Request) {
	raw, err := wire.ReadBody(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.changeGroup(w, r, func(*iamd.Group) (*iamd.GroupChange, error) {
		in, err := decodeGroup(raw)
		if err != nil {
			return nil, err
		}
		var members memberSet
		if len(in.Members) > 0 && string(in.Members) != "null" {
			if members, err = readMembers(in.Members); err != nil {
				return nil, err
			}
		}
		all := members.core()
		return &iamd.GroupChange{GroupUpdate: iamd.GroupUpdate{Name: &in.DisplayName, ExternalID: &in.ExternalID}, Members: &all}, nil
	})
}

// patchGroup applies a PatchOp to a group: displayName, externalId, and members added,
// removed (all, a list, or members[value eq "…"]) or replaced — all of it one change of
// the core. Entra expects 200 or 204.
func (f *Face) patchGroup(w http.ResponseWriter, r *http.Request) {
	raw, err := wire.ReadBody(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.changeGroup(w, r, func(*iamd.Group) (*iamd.GroupChange, error) {
		ops, err := patchOps(raw)
		if err != nil {
			return nil, err
		}
		return f.groupPatch(r, ops)
	})
}

// groupPatch reads a group's PatchOp as one change.
func (f *Face) groupPatch(r *http.Request, ops []patchOp) (*iamd.GroupChange, error) {
	change := &iamd.GroupChange{}
	plan := newMemberPlan()
	// attribute reads an operation on displayName or externalId.
	attribute := func(kind, attr string, raw json.RawMessage) error {
		var v string
		if kind != "remove" && json.Unmarshal(raw, &v) != nil {
			return newError(http.StatusBadRequest, TypeInvalidValue, attr+" must be a string.")
		}
		if attr == "externalId" {
			change.ExternalID = &v
			return nil
		}
		if v == "" {
			return newError(http.StatusBadRequest, TypeInvalidValue, "displayName must be a non-empty string.")
		}
		change.Name = &v
		return nil
	}
	attrName := func(lower string) string {
		if lower == "displayname" {
			return "displayName"
		}
		return "externalId"
	}
	for _, op := range ops {
		kind := strings.ToLower(op.Op)
		path := strings.TrimSpace(op.Path)
		lower := strings.ToLower(path)
		switch {
		case kind != "add" && kind != "replace" && kind != "remove":
			return nil, newError(http.StatusBadRequest, TypeInvalidSyntax, "Unknown operation "+op.Op+": add, remove or replace.")
		case path == "" && kind != "remove":
			var attrs map[string]json.RawMessage
			if json.Unmarshal(op.Value, &attrs) != nil {
				return nil, newError(http.StatusBadRequest, TypeInvalidValue, "An operation without a path needs an object value.")
			}
			for k, v := range attrs {
				switch strings.ToLower(k) {
				case "displayname", "externalid":
					if err := attribute(kind, attrName(strings.ToLower(k)), v); err != nil {
						return nil, err
					}
				case "members":
					members, err := readMembers(v)
					if err != nil {
						return nil, err
					}
					plan.apply(kind, members, false)
				case "id", "meta", "schemas":
				default:
					return nil, invalidPath(k)
				}
			}
		case path == "":
			return nil, newError(http.StatusBadRequest, TypeNoTarget, "A remove operation needs a path.")
		case lower == "displayname" || lower == "externalid":
			if err := attribute(kind, attrName(lower), op.Value); err != nil {
				return nil, err
			}
		case lower == "members":
			if kind == "remove" && (len(op.Value) == 0 || string(op.Value) == "null") {
				plan.apply("remove", memberSet{}, true)
				continue
			}
			members, err := readMembers(op.Value)
			if err != nil {
				return nil, err
			}
			plan.apply(kind, members, false)
		case strings.HasPrefix(lower, "members[") && strings.HasSuffix(lower, "]") && kind == "remove":
			parsed, err := ParseFilter(path[len("members[") : len(path)-1])
			c, ok := parsed.(*Compare)
			id, isString := "", false
			if ok {
				id, isString = c.Value.(string)
			}
			if err != nil || !ok || !isString || c.Op != OpEq || !strings.EqualFold(c.Attr.Name, "value") {
				return nil, newError(http.StatusBadRequest, TypeInvalidPath, `A member is named as members[value eq "id"].`)
			}
			member, _ := json.Marshal(memberIn{Value: id})
			members, err := readMembers(member)
			if err != nil {
				return nil, err
			}
			plan.apply("remove", members, false)
		default:
			return nil, invalidPath(path)
		}
	}
	plan.change(change)
	return change, nil
}

func (f *Face) deleteGroup(w http.ResponseWriter, r *http.Request) {
	version, err := deletionVersion(r, func() (int64, error) {
		g, err := f.groupToChange(r)
		if err != nil {
			return 0, err
		}
		return g.Version, nil
	})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	err = f.dir.DeleteGroup(r.Context(), iamd.PrincipalFromContext(r.Context()).InstanceID, r.PathValue("id"), version)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND || iamd.ErrorCode(err) == iamd.EINVALID {
		err = groupNotFound(r)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
