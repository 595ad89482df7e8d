package scp

import (
	"net/http"

	"iamd"
	"iamd/face/wire"
)

type groupResponse struct {
	CreatedAt    string  `json:"created_at"`
	CreatedBy    string  `json:"created_by"`
	CreatorName  string  `json:"creator_name"`
	Description  *string `json:"description"`
	ID           string  `json:"id"`
	InstanceID   string  `json:"instance_id"`
	MemberCount  int     `json:"member_count"`
	ModifiedAt   string  `json:"modified_at"`
	ModifiedBy   string  `json:"modified_by"`
	ModifierName string  `json:"modifier_name"`
	Name         string  `json:"name"`
}

type groupEnvelope struct {
	Group groupResponse `json:"group"`
}

type groupList struct {
	Count  int             `json:"count"`
	Page   int             `json:"page"`
	Size   int             `json:"size"`
	Groups []groupResponse `json:"groups"`
}

func toGroupResponse(g *iamd.Group) groupResponse {
	return groupResponse{CreatedAt: timestamp(g.CreatedAt), CreatedBy: g.CreatedBy, CreatorName: g.CreatedByName,
		Description: optional(g.Description), ID: g.ID, InstanceID: g.InstanceID, MemberCount: g.MemberCount,
		ModifiedAt: timestamp(g.UpdatedAt), ModifiedBy: g.UpdatedBy, ModifierName: g.UpdatedByName, Name: g.Name}
}

func (f *Face) createGroup(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, []string{"description", "id", "instance_id", "name"})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	var g iamd.Group
	if g.InstanceID, err = obj.Required("instance_id"); err != nil {
		f.WriteError(w, r, err)
		return
	}
	if g.Name, err = obj.Required("name"); err != nil {
		f.WriteError(w, r, err)
		return
	}
	for field, dst := range map[string]*string{"description": &g.Description, "id": &g.ID} {
		s, err := obj.String(field)
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		*dst = s.Value
	}
	created, err := f.cfg.Groups.CreateGroup(r.Context(), &g, iamd.GroupMembers{})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, groupEnvelope{toGroupResponse(created)})
}

func (f *Face) listGroups(w http.ResponseWriter, r *http.Request) {
	instanceID := r.URL.Query().Get("instance_id")
	if instanceID == "" {
		f.WriteError(w, r, invalid("instance_id", "instance_id is required."))
		return
	}
	offset, page, size, err := paging(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	res, err := f.cfg.Groups.ListGroups(r.Context(), iamd.GroupFilter{InstanceID: instanceID,
		Name: r.URL.Query().Get("name"), Offset: offset, Limit: size})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := groupList{Count: res.Total, Page: page, Size: size, Groups: make([]groupResponse, 0, len(res.Groups))}
	for i := range res.Groups {
		out.Groups = append(out.Groups, toGroupResponse(&res.Groups[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Face) showGroup(w http.ResponseWriter, r *http.Request) {
	g, err := f.cfg.Groups.GetGroup(r.Context(), instanceParam(r), r.PathValue("group_id"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, groupEnvelope{toGroupResponse(g)})
}

func (f *Face) deleteGroup(w http.ResponseWriter, r *http.Request) {
	if err := f.cfg.Groups.DeleteGroup(r.Context(), instanceParam(r), r.PathValue("group_id"), 0); err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (f *Face) addGroupUsers(w http.ResponseWriter, r *http.Request) {
	f.changeGroupUsers(w, r, func(ids []string) *iamd.GroupChange { return &iamd.GroupChange{Add: iamd.GroupMembers{Users: ids}} })
}

func (f *Face) removeGroupUsers(w http.ResponseWriter, r *http.Request) {
	f.changeGroupUsers(w, r, func(ids []string) *iamd.GroupChange { return &iamd.GroupChange{Remove: iamd.GroupMembers{Users: ids}} })
}

// changeGroupUsers applies a GroupUsersRequest ({instance_id, user_ids}) and answers
// with the group as it now is.
func (f *Face) changeGroupUsers(w http.ResponseWriter, r *http.Request, change func(userIDs []string) *iamd.GroupChange) {
	obj, err := wire.ReadObject(r, []string{"instance_id", "user_ids"})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	instanceID, err := obj.Required("instance_id")
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	ids, err := obj.Strings("user_ids")
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	g, err := f.cfg.Groups.ChangeGroup(r.Context(), instanceID, r.PathValue("group_id"), 0,
		func(*iamd.Group) (*iamd.GroupChange, error) {
			if len(ids) == 0 { // a GroupUsersRequest names its users
				return nil, invalid("user_ids", "user_ids must name at least one user.")
			}
			return change(ids), nil
		})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, groupEnvelope{toGroupResponse(g)})
}
