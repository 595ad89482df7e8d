package native

// Instances, their policy, their groups and roles, and their audit trail.

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"iamd"
	"iamd/face/wire"
)

type policyBody struct {
	PasswordMinLength      int   `json:"password_min_length"`
	PasswordHistory        int   `json:"password_history"`
	PasswordMaxAgeDays     int64 `json:"password_max_age_days"`
	LockoutThreshold       int   `json:"lockout_threshold"`
	LockoutDurationSeconds int64 `json:"lockout_duration_seconds"`
}

func toPolicyBody(p iamd.AccountPolicy) policyBody {
	return policyBody{PasswordMinLength: p.PasswordMinLength, PasswordHistory: p.PasswordHistory,
		PasswordMaxAgeDays: int64(p.PasswordMaxAge / (24 * time.Hour)), LockoutThreshold: p.LockoutThreshold,
		LockoutDurationSeconds: int64(p.LockoutDuration / time.Second)}
}

type instanceBody struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Policy    policyBody `json:"policy"`
	CreatedAt string     `json:"created_at"`
}

func toInstanceBody(inst *iamd.Instance) instanceBody {
	return instanceBody{ID: inst.ID, Name: inst.Name, Policy: toPolicyBody(inst.Policy), CreatedAt: timeUTC(inst.CreatedAt)}
}

func (f *Face) listInstances(w http.ResponseWriter, r *http.Request) {
	list, err := f.dir.ListInstances(r.Context())
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := make([]instanceBody, 0, len(list))
	for i := range list {
		out = append(out, toInstanceBody(&list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"instances": out})
}

func (f *Face) createInstance(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, []string{iamd.FieldID, iamd.FieldName})
	var in iamd.Instance
	if err == nil {
		in.ID, err = obj.Required(iamd.FieldID)
	}
	if err == nil {
		var name wire.OptString
		name, err = obj.String(iamd.FieldName)
		in.Name = name.Value
	}
	var inst *iamd.Instance
	if err == nil {
		inst, err = f.dir.CreateInstance(r.Context(), &in)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toInstanceBody(inst))
}

func (f *Face) getInstance(w http.ResponseWriter, r *http.Request) {
	inst, err := f.dir.GetInstance(r.Context(), r.PathValue("instance_id"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toInstanceBody(inst))
}

func (f *Face) deleteInstance(w http.ResponseWriter, r *http.Request) {
	if err := f.dir.DeleteInstance(r.Context(), r.PathValue("instance_id")); err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Face) getPolicy(w http.ResponseWriter, r *http.Request) {
	inst, err := f.dir.GetInstance(r.Context(), r.PathValue("instance_id"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPolicyBody(inst.Policy))
}

// wholeNumber reads a field that must be a non-negative whole number.
func wholeNumber(obj wire.Object, field string) (int64, error) {
	raw, ok := obj[field]
	if !ok {
		return 0, iamd.Invalid(field, "%s is required", field)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 0 {
		return 0, iamd.Invalid(field, "%s must be a whole number from 0", field)
	}
	return n, nil
}

var policyFields = []string{"password_min_length", "password_history", "password_max_age_days", "lockout_threshold",
	"lockout_duration_seconds"}

func (f *Face) putPolicy(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, policyFields)
	var n [5]int64
	for i, field := range policyFields {
		if err == nil {
			n[i], err = wholeNumber(obj, field)
		}
	}
	// Past these a duration overflows; the core holds the real bounds.
	if err == nil && n[2] > 100*365 {
		err = iamd.Invalid("password_max_age_days", "password_max_age_days must be at most %d", 100*365)
	}
	if err == nil && n[4] > 100*365*24*3600 {
		err = iamd.Invalid("lockout_duration_seconds", "lockout_duration_seconds must be at most %d", 100*365*24*3600)
	}
	var inst *iamd.Instance
	if err == nil {
		err = f.dir.SetAccountPolicy(r.Context(), r.PathValue("instance_id"), iamd.AccountPolicy{
			PasswordMinLength: int(min(n[0], 1<<20)), PasswordHistory: int(min(n[1], 1<<20)),
			PasswordMaxAge: time.Duration(n[2]) * 24 * time.Hour, LockoutThreshold: int(min(n[3], 1<<20)),
			LockoutDuration: time.Duration(n[4]) * time.Second})
	}
	if err == nil {
		inst, err = f.dir.GetInstance(r.Context(), r.PathValue("instance_id"))
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPolicyBody(inst.Policy))
}

type eventActor struct {
	ID        string  `json:"id"`
	LoginName *string `json:"login_name"`
	Name      string  `json:"name"`
}

type eventTarget struct {
	Kind string  `json:"kind"`
	ID   string  `json:"id"`
	Name *string `json:"name"`
}

type eventBody struct {
	ID            string      `json:"id"`
	Time          string      `json:"time"`
	Type          string      `json:"type"`
	Outcome       string      `json:"outcome"`
	Actor         eventActor  `json:"actor"`
	Target        eventTarget `json:"target"`
	Face          string      `json:"face"`
	SourceAddress string      `json:"source_address"`
	Changes       []string    `json:"changes"`
}

// timeParam reads an RFC 3339 time of the query.
func timeParam(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, iamd.Invalid(name, "%s must be an RFC 3339 time, such as 2027-01-31T00:00:00Z", name)
	}
	return t, nil
}

func (f *Face) listEvents(w http.ResponseWriter, r *http.Request) {
	inst := r.PathValue("instance_id")
	q := r.URL.Query()
	filter := iamd.EventFilter{InstanceID: inst, Action: q.Get("type"), ActorID: q.Get("actor"), TargetID: q.Get("target")}
	var err error
	filter.Limit, err = limitParam(r)
	var cursor string
	if err == nil {
		cursor, err = decodeCursor(r)
	}
	if err == nil && cursor != "" {
		filter.Before, err = strconv.ParseInt(cursor, 10, 64)
		if err != nil || filter.Before < 1 {
			err = iamd.Invalid("cursor", "cursor must be a next_cursor this API returned")
		}
	}
	if err == nil {
		filter.Since, err = timeParam(r, "since")
	}
	if err == nil {
		filter.Until, err = timeParam(r, "until")
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	filter.Limit++
	events, err := f.dir.ListEvents(r.Context(), filter)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	var next *string
	if len(events) == filter.Limit {
		events = events[:len(events)-1]
		c := encodeCursor(strconv.FormatInt(events[len(events)-1].ID, 10))
		next = &c
	}
	logins, err := f.dir.ActorLogins(r.Context(), inst, EventIDs(events))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := make([]any, 0, len(events))
	for i := range events {
		out = append(out, EventRecord(&events[i], logins))
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out, "next_cursor": next})
}

// EventIDs are the user ids whose login names EventRecord shows for events.
func EventIDs(events []iamd.Event) []string {
	ids := make([]string, 0, 2*len(events))
	for _, e := range events {
		ids = append(ids, e.ActorID)
		if e.TargetType == "user" {
			ids = append(ids, e.TargetID)
		}
	}
	return ids
}

// EventRecord is an event as this API and `iamd events export` show it, with the login
// names of logins (user id → login name; see EventIDs) where the caller may see them.
func EventRecord(e *iamd.Event, logins map[string]string) any {
	login := func(id string) *string {
		if l, ok := logins[id]; ok {
			return &l
		}
		return nil
	}
	b := eventBody{ID: strconv.FormatInt(e.ID, 10), Time: timeUTC(e.Time), Type: e.Action, Outcome: e.Outcome,
		Actor:  eventActor{ID: e.ActorID, LoginName: login(e.ActorID), Name: e.ActorName},
		Target: eventTarget{Kind: e.TargetType, ID: e.TargetID}, Face: e.Face, SourceAddress: e.Source,
		Changes: slices.Clip(e.Changes)}
	if e.TargetType == "user" {
		b.Target.Name = login(e.TargetID)
	}
	if b.Changes == nil {
		b.Changes = []string{}
	}
	return b
}

type groupBody struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	ExternalID  string       `json:"external_id"`
	Roles       []string     `json:"roles"`
	MemberCount int          `json:"member_count"`
	Members     *[]memberRef `json:"members,omitempty"`
	CreatedAt   string       `json:"created_at"`
	UpdatedAt   string       `json:"updated_at"`
	Version     int64        `json:"version"`
}

type memberRef struct {
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	LoginName string `json:"login_name,omitempty"`
	Name      string `json:"name"`
}

func toGroupBody(g *iamd.Group) groupBody {
	roles := g.Roles
	if roles == nil {
		roles = []string{}
	}
	return groupBody{ID: g.ID, Name: g.Name, Description: g.Description, ExternalID: g.ExternalID, Roles: roles,
		MemberCount: g.MemberCount, CreatedAt: timeUTC(g.CreatedAt), UpdatedAt: timeUTC(g.UpdatedAt), Version: g.Version}
}

// offsetCursor reads a cursor that holds an offset (groups are few: their listing pages
// by position).
func offsetCursor(r *http.Request) (int, error) {
	c, err := decodeCursor(r)
	if err != nil || c == "" {
		return 0, err
	}
	n, err := strconv.Atoi(c)
	if err != nil || n < 0 {
		return 0, iamd.Invalid("cursor", "cursor must be a next_cursor this API returned")
	}
	return n, nil
}

func (f *Face) listGroups(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	var offset int
	if err == nil {
		offset, err = offsetCursor(r)
	}
	var page *iamd.GroupPage
	if err == nil {
		page, err = f.dir.ListGroups(r.Context(), iamd.GroupFilter{InstanceID: r.PathValue("instance_id"),
			Name: r.URL.Query().Get("name"), Offset: offset, Limit: limit})
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := make([]groupBody, 0, len(page.Groups))
	for i := range page.Groups {
		out = append(out, toGroupBody(&page.Groups[i]))
	}
	var next *string
	if offset+len(page.Groups) < page.Total {
		c := encodeCursor(strconv.Itoa(offset + len(page.Groups)))
		next = &c
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": out, "next_cursor": next})
}

func (f *Face) createGroup(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, []string{iamd.FieldName, iamd.FieldDescription, iamd.FieldExternalID, iamd.FieldUserIDs})
	var in iamd.Group
	var members iamd.GroupMembers
	in.InstanceID = r.PathValue("instance_id")
	if err == nil {
		in.Name, err = obj.Required(iamd.FieldName)
	}
	for field, dst := range map[string]*string{iamd.FieldDescription: &in.Description, iamd.FieldExternalID: &in.ExternalID} {
		if err == nil {
			var s wire.OptString
			s, err = obj.String(field)
			*dst = s.Value
		}
	}
	if err == nil {
		members.Users, err = obj.Strings(iamd.FieldUserIDs)
	}
	var g *iamd.Group
	if err == nil {
		g, err = f.dir.CreateGroup(r.Context(), &in, members)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toGroupBody(g))
}

func (f *Face) getGroup(w http.ResponseWriter, r *http.Request) {
	inst, id := r.PathValue("instance_id"), r.PathValue("group_id")
	g, members, err := f.dir.GroupWithMembers(r.Context(), inst, id)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	list := []memberRef{}
	for _, u := range members.Users {
		list = append(list, memberRef{Kind: "user", ID: u.ID, LoginName: u.LoginName, Name: u.DisplayName})
	}
	for _, sub := range members.Groups {
		list = append(list, memberRef{Kind: "group", ID: sub.ID, Name: sub.Name})
	}
	body := toGroupBody(g)
	body.Members = &list
	writeJSON(w, http.StatusOK, body)
}

func (f *Face) deleteGroup(w http.ResponseWriter, r *http.Request) {
	version, err := versionQuery(r)
	if err == nil {
		err = f.dir.DeleteGroup(r.Context(), r.PathValue("instance_id"), r.PathValue("group_id"), version)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type roleBody struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Builtin     bool     `json:"builtin"`
	Privileges  []string `json:"privileges"`
}

func (f *Face) listRoles(w http.ResponseWriter, r *http.Request) {
	roles, err := f.dir.ListRoles(r.Context(), r.PathValue("instance_id"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := make([]roleBody, 0, len(roles))
	for i := range roles {
		out = append(out, toRoleBody(&roles[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"roles": out})
}

// patchGroup changes a group from the version it was read at: its name, description,
// external id, and members added or removed.
func (f *Face) patchGroup(w http.ResponseWriter, r *http.Request) {
	var change *iamd.GroupChange // read once, after the core authorized the caller
	g, err := f.dir.ChangeGroup(r.Context(), r.PathValue("instance_id"), r.PathValue("group_id"), 0,
		func(*iamd.Group) (*iamd.GroupChange, error) {
			if change != nil {
				return change, nil
			}
			obj, err := wire.ReadObject(r, []string{iamd.FieldVersion, iamd.FieldName, iamd.FieldDescription, iamd.FieldExternalID,
				"add_user_ids", "remove_user_ids", "add_group_ids", "remove_group_ids"})
			if err != nil {
				return nil, err
			}
			version, err := versionField(obj)
			if err != nil {
				return nil, err
			}
			c := iamd.GroupChange{Version: version}
			for field, dst := range map[string]**string{iamd.FieldName: &c.Name, iamd.FieldDescription: &c.Description,
				iamd.FieldExternalID: &c.ExternalID} {
				s, err := obj.String(field)
				if err != nil {
					return nil, err
				}
				if s.Set {
					v := s.Value
					*dst = &v
				}
			}
			for field, dst := range map[string]*[]string{"add_user_ids": &c.Add.Users, "remove_user_ids": &c.Remove.Users,
				"add_group_ids": &c.Add.Groups, "remove_group_ids": &c.Remove.Groups} {
				if *dst, err = obj.Strings(field); err != nil {
					return nil, err
				}
			}
			change = &c
			return change, nil
		})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGroupBody(g))
}

// setGroupRoles replaces the roles a group grants its members.
func (f *Face) setGroupRoles(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, []string{iamd.FieldRoles})
	var roles []string
	if err == nil {
		roles, err = obj.Strings(iamd.FieldRoles)
	}
	inst, id := r.PathValue("instance_id"), r.PathValue("group_id")
	if err == nil {
		err = f.dir.SetGroupRoles(r.Context(), inst, id, roles)
	}
	var g *iamd.Group
	if err == nil {
		g, err = f.dir.GetGroup(r.Context(), inst, id)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGroupBody(g))
}

// readRole reads a role's description and privileges.
func readRole(r *http.Request, name string) (*iamd.Role, error) {
	fields := []string{iamd.FieldDescription, iamd.FieldPrivileges}
	if name == "" {
		fields = append(fields, iamd.FieldName)
	}
	obj, err := wire.ReadObject(r, fields)
	if err != nil {
		return nil, err
	}
	role := &iamd.Role{InstanceID: r.PathValue("instance_id"), Name: name}
	if name == "" {
		if role.Name, err = obj.Required(iamd.FieldName); err != nil {
			return nil, err
		}
	}
	d, err := obj.String(iamd.FieldDescription)
	if err != nil {
		return nil, err
	}
	role.Description = d.Value
	if role.Privileges, err = obj.Strings(iamd.FieldPrivileges); err != nil {
		return nil, err
	}
	return role, nil
}

func toRoleBody(role *iamd.Role) roleBody {
	privs := role.Privileges
	if privs == nil {
		privs = []string{}
	}
	return roleBody{Name: role.Name, Description: role.Description, Builtin: role.Builtin, Privileges: privs}
}

func (f *Face) createRole(w http.ResponseWriter, r *http.Request) {
	role, err := readRole(r, "")
	if err == nil {
		role, err = f.dir.CreateRole(r.Context(), role)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toRoleBody(role))
}

// saveRole creates the role of the path or replaces its description and privileges.
func (f *Face) saveRole(w http.ResponseWriter, r *http.Request) {
	role, err := readRole(r, r.PathValue("role"))
	if err == nil {
		role, err = f.dir.SaveRole(r.Context(), role)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRoleBody(role))
}

func (f *Face) deleteRole(w http.ResponseWriter, r *http.Request) {
	if err := f.dir.DeleteRole(r.Context(), r.PathValue("instance_id"), r.PathValue("role")); err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
