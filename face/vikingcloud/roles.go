package vikingcloud

import (
	"net/http"

	"iamd"
)

type roleIn struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Internal    bool    `json:"internal"`
	Privileges  []named `json:"privileges"`
}

// saveRole creates a role or replaces a custom one's description and privileges.
// Internal roles are the server's own (iamd's built-in roles) and cannot be saved.
func (f *Face) saveRole(w http.ResponseWriter, r *http.Request) {
	var in roleIn
	if err := decode(r, &in); err != nil {
		f.WriteError(w, r, err)
		return
	}
	switch {
	case in.Name == "":
		f.WriteError(w, r, badRequest("Field \"name\" cannot be null"))
		return
	case in.Internal:
		f.WriteError(w, r, badRequest("Field \"internal\": internal roles are the server's own and cannot be saved"))
		return
	}
	role, err := f.dir.SaveRole(r.Context(), &iamd.Role{InstanceID: iamd.PrincipalFromContext(r.Context()).InstanceID,
		Name: in.Name, Description: in.Description, Privileges: names(&in.Privileges)})
	if err != nil {
		f.writeErrorIn(w, r, err, roleFields)
		return
	}
	writeJSON(w, http.StatusOK, toRole(*role))
}

func (f *Face) listRoles(w http.ResponseWriter, r *http.Request) {
	roles, err := f.dir.ListRoles(r.Context(), iamd.PrincipalFromContext(r.Context()).InstanceID)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := make([]roleOut, 0, len(roles))
	for _, role := range roles {
		out = append(out, toRole(role))
	}
	writeJSON(w, http.StatusOK, out)
}

// listPrivileges answers the privileges roles and users can be granted (ROLE_READ).
func (f *Face) listPrivileges(w http.ResponseWriter, r *http.Request) {
	grantable, err := f.dir.ListGrantablePrivileges(r.Context(), iamd.PrincipalFromContext(r.Context()).InstanceID)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, privileges(grantable))
}
