package ncloud

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"iamd"
	"iamd/face/wire"
)

func (f *Face) getAccessRules(w http.ResponseWriter, r *http.Request) {
	u, err := f.findUser(r, r.PathValue("userId"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWire(u).AccessRules)
}

// putAccessRules sets both rules; the body is the rules, both required, as on create.
func (f *Face) putAccessRules(w http.ResponseWriter, r *http.Request) {
	body, err := wire.ReadBody(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	var rules iamd.User
	if err := readAccessRules("", body, &rules); err != nil {
		f.WriteError(w, r, err)
		return
	}
	u, err := f.changeUser(r, r.PathValue("userId"), func(*iamd.User) (*iamd.UserChange, error) {
		return &iamd.UserChange{UserUpdate: iamd.UserUpdate{ConsoleDenied: &rules.ConsoleDenied, APIDenied: &rules.APIDenied}}, nil
	})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, result{ID: wireID(u.ID), NRN: nrn(u), Success: true})
}

func (f *Face) getProfile(w http.ResponseWriter, r *http.Request) {
	u, err := f.findUser(r, r.PathValue("userId"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWire(u).UserProfile)
}

type groupOut struct {
	GroupID     string `json:"groupId"`
	GroupName   string `json:"groupName"`
	NRN         string `json:"nrn"`
	Description string `json:"description"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
}

func groupNRN(g *iamd.Group) string { return groupIDNRN(g.InstanceID, g.ID) }

func groupIDNRN(instanceID, id string) string { return "nrn:PUB:SSO::" + instanceID + ":Group/" + id }

func toGroup(g *iamd.Group) groupOut {
	return groupOut{GroupID: g.ID, GroupName: g.Name, NRN: groupNRN(g), Description: g.Description,
		CreatedAt: stamp(g.CreatedAt), UpdatedAt: stamp(g.UpdatedAt)}
}

// userGroups lists the groups a user is a direct member of.
func (f *Face) userGroups(w http.ResponseWriter, r *http.Request) {
	u, err := f.findUser(r, r.PathValue("userId"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	items := []groupOut{}
	for _, ref := range u.Groups {
		g, err := f.dir.GetGroup(r.Context(), u.InstanceID, ref.ID)
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		items = append(items, toGroup(g))
	}
	writeJSON(w, http.StatusOK, newPage(items, len(items), 0, max(len(items), 1)))
}

// userGroup answers one of the user's groups, or 404 when the user is not in it.
func (f *Face) userGroup(w http.ResponseWriter, r *http.Request) {
	u, err := f.findUser(r, r.PathValue("userId"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	for _, ref := range u.Groups {
		if ref.ID == r.PathValue("groupId") {
			g, err := f.dir.GetGroup(r.Context(), u.InstanceID, ref.ID)
			if err != nil {
				f.WriteError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, toGroup(g))
			return
		}
	}
	f.WriteError(w, r, &faceError{status: http.StatusNotFound, detail: "The user is not a member of group " + strconv.Quote(r.PathValue("groupId")) + "."})
}

// changeGroups adds the user to, or removes it from, every group of {"groupIds": […]}:
// one change of the core, all of it or none, whose result each group's item tells.
func (f *Face) changeGroups(add bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ids, err := readIDs(r, "groupIds", "groups")
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		change := iamd.UserChange{JoinGroups: ids}
		if !add {
			change = iamd.UserChange{LeaveGroups: ids}
		}
		_, err = f.changeUser(r, r.PathValue("userId"), func(*iamd.User) (*iamd.UserChange, error) { return &change, nil })
		msg, whole := "", false
		if err != nil {
			var fe *faceError
			if msg, whole = f.itemFailure(r, err); whole || errors.As(err, &fe) && fe.status == http.StatusNotFound { // no such user
				f.WriteError(w, r, err)
				return
			}
		}
		out := make([]result, 0, len(ids))
		for _, id := range ids {
			out = append(out, result{ID: id, NRN: groupIDNRN(instanceOf(r), id), Success: err == nil, Message: msg})
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// groupUsers pages a group's members.
func (f *Face) groupUsers(w http.ResponseWriter, r *http.Request) {
	offset, page, size, err := pageParams(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	inst := instanceOf(r)
	g, err := f.dir.GetGroup(r.Context(), inst, r.PathValue("groupId"))
	if iamd.ErrorCode(err) == iamd.ENOTFOUND || iamd.ErrorCode(err) == iamd.EINVALID {
		err = &faceError{status: http.StatusNotFound, detail: "No group with groupId " + strconv.Quote(r.PathValue("groupId")) + "."}
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	res, err := f.dir.ListUsers(r.Context(), iamd.UserFilter{InstanceID: inst, GroupID: g.ID, Offset: offset, Limit: size,
		Sort: []iamd.UserSort{{Key: iamd.SortByCreatedAt}}})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userPage(res, page, size))
}

type sessionOut struct {
	SessionID string `json:"sessionId"`
	CreatedAt string `json:"createdAt"`
	ExpireAt  string `json:"expireAt"`
}

type sessionPage struct {
	TotalItems int          `json:"totalItems"`
	Items      []sessionOut `json:"items"`
}

// userSessions lists the user's live sign-in sessions (the accounts core's tokens, by id).
func (f *Face) userSessions(w http.ResponseWriter, r *http.Request) {
	u, err := f.findUser(r, r.PathValue("userId"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	sessions, err := f.acct.ListSessions(r.Context(), u.InstanceID, u.ID)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := sessionPage{TotalItems: len(sessions), Items: []sessionOut{}}
	for _, s := range sessions {
		out.Items = append(out.Items, sessionOut{SessionID: wireID(s.ID), CreatedAt: stamp(s.CreatedAt), ExpireAt: stamp(s.ExpiresAt)})
	}
	writeJSON(w, http.StatusOK, out)
}

// expireSessions signs the user out everywhere, at once.
func (f *Face) expireSessions(w http.ResponseWriter, r *http.Request) {
	u, err := f.findUser(r, r.PathValue("userId"))
	if err == nil {
		_, err = f.acct.ExpireSessions(r.Context(), u.InstanceID, u.ID)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, result{ID: wireID(u.ID), NRN: nrn(u), Success: true})
}

type mfaDevice struct {
	DeviceType string `json:"deviceType"`
	Enabled    bool   `json:"enabled"`
}

// mfaDevices lists the user's second factors: the accounts core's TOTP, when enrolled.
// A user enrols its own device (iamd's native API); an administrator can only reset it.
func (f *Face) mfaDevices(w http.ResponseWriter, r *http.Request) {
	u, err := f.findUser(r, r.PathValue("userId"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	devices := []mfaDevice{}
	if u.MFAEnabled {
		devices = append(devices, mfaDevice{DeviceType: "TOTP", Enabled: true})
	}
	writeJSON(w, http.StatusOK, map[string]any{"totalItems": len(devices), "items": devices})
}

// resetMFA removes the user's TOTP device, for a user who lost it.
func (f *Face) resetMFA(w http.ResponseWriter, r *http.Request) {
	u, err := f.changeUser(r, r.PathValue("userId"), func(*iamd.User) (*iamd.UserChange, error) {
		return &iamd.UserChange{MFA: &iamd.MFASetting{Enabled: false}}, nil
	})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, result{ID: wireID(u.ID), NRN: nrn(u), Success: true})
}

type tagOut struct {
	TagKey   string `json:"tagKey"`
	TagValue string `json:"tagValue"`
}

func (f *Face) userTags(w http.ResponseWriter, r *http.Request) {
	u, err := f.findUser(r, r.PathValue("userId"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	tags, err := f.dir.ListUserTags(r.Context(), u.InstanceID, u.ID)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	items := []tagOut{}
	for _, t := range tags {
		items = append(items, tagOut{t.Key, t.Value})
	}
	writeJSON(w, http.StatusOK, map[string]any{"totalItems": len(items), "items": items})
}

// putTags sets {"tags": [{"tagKey", "tagValue"}]} on the user; a key it has takes the
// new value.
func (f *Face) putTags(w http.ResponseWriter, r *http.Request) {
	obj, err := readObject(r, []string{"tags"})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	var in []tagOut
	if raw, ok := obj["tags"]; !ok || json.Unmarshal(raw, &in) != nil || len(in) == 0 {
		f.WriteError(w, r, invalid("tags", "a list of {\"tagKey\", \"tagValue\"}."))
		return
	}
	u, err := f.findUser(r, r.PathValue("userId"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	tags := make([]iamd.Tag, len(in))
	for i, t := range in {
		tags[i] = iamd.Tag{Key: t.TagKey, Value: t.TagValue}
	}
	if err := f.dir.PutUserTags(r.Context(), u.InstanceID, u.ID, tags); err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, result{ID: wireID(u.ID), NRN: nrn(u), Success: true})
}

// deleteTags removes {"tagKeys": […]} from the user.
func (f *Face) deleteTags(w http.ResponseWriter, r *http.Request) {
	obj, err := readObject(r, []string{"tagKeys"})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	keys, err := obj.Strings("tagKeys")
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	u, err := f.findUser(r, r.PathValue("userId"))
	if err == nil {
		err = f.dir.DeleteUserTags(r.Context(), u.InstanceID, u.ID, keys)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, result{ID: wireID(u.ID), NRN: nrn(u), Success: true})
}

// listGroups pages the caller's groups by name.
func (f *Face) listGroups(w http.ResponseWriter, r *http.Request) {
	offset, page, size, err := pageParams(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	res, err := f.dir.ListGroups(r.Context(), iamd.GroupFilter{InstanceID: instanceOf(r), Offset: offset, Limit: size})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	items := make([]groupOut, 0, len(res.Groups))
	for i := range res.Groups {
		items = append(items, toGroup(&res.Groups[i]))
	}
	writeJSON(w, http.StatusOK, newPage(items, res.Total, page, size))
}

// createGroup makes a group of {"groupName", "description"}, so that memberships can be
// given through this face alone.
func (f *Face) createGroup(w http.ResponseWriter, r *http.Request) {
	obj, err := readObject(r, []string{"groupName", "description"})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	name, err := obj.Required("groupName")
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	desc, err := obj.String("description")
	if err == nil {
		err = checkDescription(desc.Value)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	g, err := f.dir.CreateGroup(r.Context(), &iamd.Group{InstanceID: instanceOf(r), Name: name, Description: desc.Value}, iamd.GroupMembers{})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGroup(g))
}

func (f *Face) getGroup(w http.ResponseWriter, r *http.Request) {
	g, err := f.dir.GetGroup(r.Context(), instanceOf(r), r.PathValue("groupId"))
	if iamd.ErrorCode(err) == iamd.ENOTFOUND || iamd.ErrorCode(err) == iamd.EINVALID {
		err = &faceError{status: http.StatusNotFound, detail: "No group with groupId " + strconv.Quote(r.PathValue("groupId")) + "."}
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGroup(g))
}
