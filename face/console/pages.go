package console

import (
	"crypto/hmac"
	"net/http"
	"strconv"
	"strings"
	"time"

	"iamd"
)

const pageSize = 50

func (f *Face) home(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(sessionCookie)
	if err == nil {
		if p, err := f.acct.AuthenticateToken(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, f.instancePath(p.InstanceID, "/users"), http.StatusSeeOther)
			return
		}
	}
	f.toSignIn(w, r)
}

type signInData struct {
	Instance, LoginName, Token string
}

func (f *Face) signInForm(w http.ResponseWriter, r *http.Request) {
	f.showSignIn(w, r, http.StatusOK, signInData{Instance: f.inst}, nil)
}

// showSignIn renders the sign-in form with a fresh double-submit token.
func (f *Face) showSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData, err error) {
	d.Token = newRandomToken()
	http.SetCookie(w, f.cookie(r, signInCookie, d.Token, 600))
	pd := pageData{Title: "Sign in", Notice: r.URL.Query().Get("notice"), Data: d}
	if err != nil {
		pd.Error = iamd.ErrorMessage(err)
	}
	f.render(w, r, status, "sign-in", pd)
}

func (f *Face) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	in := iamd.SignIn{InstanceID: strings.TrimSpace(r.PostFormValue("instance")), LoginName: r.PostFormValue("login_name"),
		Password: r.PostFormValue("password"), TOTPCode: strings.TrimSpace(r.PostFormValue("totp_code"))}
	d := signInData{Instance: in.InstanceID, LoginName: in.LoginName}
	c, err := r.Cookie(signInCookie)
	if err != nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.PostFormValue("csrf"))) {
		f.showSignIn(w, r, http.StatusForbidden, d, iamd.Errorf(iamd.EFORBIDDEN, "The sign-in form is out of date. Try again."))
		return
	}
	grant, err := f.acct.SignIn(r.Context(), in)
	if err != nil {
		f.showSignIn(w, r, statusOf(err), d, err)
		return
	}
	http.SetCookie(w, f.cookie(r, signInCookie, "", -1))
	http.SetCookie(w, f.cookie(r, sessionCookie, grant.Token, int(time.Until(grant.Session.ExpiresAt)/time.Second)))
	if grant.Session.PasswordChangeOnly {
		http.Redirect(w, r, f.prefix+"/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, f.instancePath(grant.Session.InstanceID, "/users"), http.StatusSeeOther)
}

func (f *Face) signOut(w http.ResponseWriter, r *http.Request, s *visit) {
	if err := f.acct.SignOut(r.Context(), s.token); err != nil && iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
		f.WriteError(w, r, err)
		return
	}
	f.clearSession(w, r)
	f.back(w, r, f.prefix+"/sign-in", "Signed out.")
}

func (f *Face) passwordForm(w http.ResponseWriter, r *http.Request, s *visit) {
	f.show(w, r, s, s.p.InstanceID, "password", "Change your password", nil)
}

func (f *Face) changePassword(w http.ResponseWriter, r *http.Request, s *visit) {
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	if next != r.PostFormValue("repeat_password") {
		f.render(w, r, http.StatusBadRequest, "password", pageData{Title: "Change your password", Caller: s.p, CSRF: s.csrf,
			Instance: s.p.InstanceID, Error: "The two new passwords differ.", Field: "repeat_password"})
		return
	}
	if err := f.acct.ChangePassword(r.Context(), current, next); err != nil {
		f.render(w, r, statusOf(err), "password", pageData{Title: "Change your password", Caller: s.p, CSRF: s.csrf,
			Instance: s.p.InstanceID, Error: iamd.ErrorMessage(err), Field: iamd.ErrorField(err)})
		return
	}
	// The session was for the change only: sign in again with the new password.
	f.acct.SignOut(r.Context(), s.token)
	f.clearSession(w, r)
	f.back(w, r, f.prefix+"/sign-in", "Password changed. Sign in with the new one.")
}

func (f *Face) instancesPage(w http.ResponseWriter, r *http.Request, s *visit) {
	list, err := f.dir.ListInstances(r.Context())
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.show(w, r, s, s.p.InstanceID, "instances", "Instances", list)
}

func (f *Face) createInstance(w http.ResponseWriter, r *http.Request, s *visit) {
	inst, err := f.dir.CreateInstance(r.Context(), &iamd.Instance{ID: strings.TrimSpace(r.PostFormValue("id")),
		Name: strings.TrimSpace(r.PostFormValue("name"))})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.back(w, r, f.prefix+"/instances", "Instance "+inst.ID+" created.")
}

type usersData struct {
	Query string
	Users []iamd.User
	Next  string
}

// searchUsers reads a page of the search in the query string.
func (f *Face) searchUsers(r *http.Request) (*usersData, error) {
	q := r.URL.Query()
	search := iamd.UserSearch{Any: q.Get("q"), After: q.Get("after"), Limit: pageSize}
	page, err := f.dir.ListUsers(r.Context(), search.Filter(r.PathValue("instance_id")))
	if err != nil {
		return nil, err
	}
	d := &usersData{Query: search.Any, Users: page.Users}
	if len(page.Users) > pageSize {
		d.Users = page.Users[:pageSize]
		d.Next = d.Users[pageSize-1].LoginName
	}
	return d, nil
}

func (f *Face) usersPage(w http.ResponseWriter, r *http.Request, s *visit) {
	d, err := f.searchUsers(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.show(w, r, s, r.PathValue("instance_id"), "users", "Users", d)
}

// userRows answers the rows of a search alone, for the search box's script.
func (f *Face) userRows(w http.ResponseWriter, r *http.Request, s *visit) {
	d, err := f.searchUsers(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.show(w, r, s, r.PathValue("instance_id"), "user-rows", "", d)
}

func (f *Face) newUserForm(w http.ResponseWriter, r *http.Request, s *visit) {
	f.show(w, r, s, r.PathValue("instance_id"), "user-new", "New user", nil)
}

// formUpdate reads the profile fields of the user forms: a field absent from the form
// changes nothing.
func formUpdate(r *http.Request) iamd.UserUpdate {
	var upd iamd.UserUpdate
	for name, dst := range map[string]**string{"display_name": &upd.DisplayName, "given_name": &upd.GivenName,
		"family_name": &upd.FamilyName, "email": &upd.Email, "department": &upd.Department, "description": &upd.Description} {
		if vs, ok := r.PostForm[name]; ok {
			v := strings.TrimSpace(vs[0])
			*dst = &v
		}
	}
	if vs, ok := r.PostForm["status"]; ok {
		st := iamd.UserStatus(vs[0])
		upd.Status = &st
	}
	return upd
}

func (f *Face) createUser(w http.ResponseWriter, r *http.Request, s *visit) {
	inst := r.PathValue("instance_id")
	u, err := f.dir.CreateUserFrom(r.Context(), inst, func() (*iamd.User, iamd.CreateUserOptions, error) {
		u := &iamd.User{LoginName: strings.TrimSpace(r.PostFormValue("login_name")), Status: iamd.UserActive}
		upd := formUpdate(r)
		upd.Apply(u)
		opts := iamd.CreateUserOptions{Password: r.PostFormValue("password")}
		u.TemporaryPassword = opts.Password != "" && r.PostFormValue("temporary") == "on"
		return u, opts, nil
	})
	if err != nil {
		f.render(w, r, statusOf(err), "user-new", pageData{Title: "New user", Instance: inst, Caller: s.p, CSRF: s.csrf,
			Error: iamd.ErrorMessage(err), Field: iamd.ErrorField(err)})
		return
	}
	f.back(w, r, f.instancePath(inst, "/users/", u.ID), "User "+u.LoginName+" created.")
}

type userData struct {
	User       *iamd.User
	Roles      []string
	Privileges []string
	Sessions   []iamd.Session
	Keys       []iamd.AccessKey
	Tokens     []iamd.APIToken
	Events     []iamd.Event
	Secret     string // a new access key's secret, on the one page that shows it
	SecretKey  string
}

func (f *Face) userData(r *http.Request) (*userData, error) {
	inst, id := r.PathValue("instance_id"), r.PathValue("user_id")
	ctx := r.Context()
	u, err := f.dir.GetUser(ctx, inst, id)
	if err != nil {
		return nil, err
	}
	d := &userData{User: u}
	if d.Roles, d.Privileges, err = f.dir.EffectiveGrants(ctx, inst, id); err != nil {
		return nil, err
	}
	if d.Sessions, err = f.acct.ListSessions(ctx, inst, id); err != nil {
		return nil, err
	}
	if d.Keys, err = f.acct.ListAccessKeys(ctx, inst, id); err != nil {
		return nil, err
	}
	if d.Tokens, err = f.acct.ListAPITokens(ctx, inst, id); err != nil {
		return nil, err
	}
	// The trail needs AUDIT_READ; without it the page shows the rest.
	if evs, err := f.dir.ListEvents(ctx, iamd.EventFilter{InstanceID: inst, TargetID: id, Limit: 20}); err == nil {
		d.Events = evs
	} else if iamd.ErrorCode(err) != iamd.EFORBIDDEN {
		return nil, err
	}
	return d, nil
}

func (f *Face) userPage(w http.ResponseWriter, r *http.Request, s *visit) {
	d, err := f.userData(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.show(w, r, s, r.PathValue("instance_id"), "user", d.User.LoginName, d)
}

// refuse renders the user's page again with err beside the form that caused it.
func (f *Face) refuse(w http.ResponseWriter, r *http.Request, s *visit, err error) {
	d, derr := f.userData(r)
	if derr != nil {
		f.WriteError(w, r, err)
		return
	}
	f.render(w, r, statusOf(err), "user", pageData{Title: d.User.LoginName, Instance: r.PathValue("instance_id"), Caller: s.p,
		CSRF: s.csrf, Error: iamd.ErrorMessage(err), Field: iamd.ErrorField(err), Data: d})
}

func (f *Face) editUser(w http.ResponseWriter, r *http.Request, s *visit) {
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil || version < 1 {
		f.refuse(w, r, s, iamd.Invalid(iamd.FieldVersion, "The form carries no version; reload the page."))
		return
	}
	change := iamd.UserChange{UserUpdate: formUpdate(r)}
	u, err := f.dir.ChangeUser(r.Context(), r.PathValue("instance_id"), iamd.UserRef{ID: r.PathValue("user_id"), Version: version},
		func(*iamd.User) (*iamd.UserChange, error) { return &change, nil })
	if err != nil {
		f.refuse(w, r, s, err)
		return
	}
	f.back(w, r, f.instancePath(u.InstanceID, "/users/", u.ID), "Saved.")
}

// userAction makes one of the changes the user page's buttons ask for.
func (f *Face) userAction(w http.ResponseWriter, r *http.Request, s *visit) {
	inst, id := r.PathValue("instance_id"), r.PathValue("user_id")
	ctx := r.Context()
	change := func(c iamd.UserChange) error {
		_, err := f.dir.ChangeUser(ctx, inst, iamd.UserRef{ID: id}, func(*iamd.User) (*iamd.UserChange, error) { return &c, nil })
		return err
	}
	here := f.instancePath(inst, "/users/", id)
	var err error
	var notice string
	switch r.PathValue("action") {
	case "unlock":
		unlocked := false
		err, notice = change(iamd.UserChange{UserUpdate: iamd.UserUpdate{Locked: &unlocked}}), "Unlocked."
	case "password":
		err = change(iamd.UserChange{Password: &iamd.NewPassword{Clear: r.PostFormValue("password"), Temporary: r.PostFormValue("temporary") == "on"}})
		notice = "Password set."
	case "reset-mfa":
		err, notice = change(iamd.UserChange{MFA: &iamd.MFASetting{Enabled: false}}), "MFA reset: the user enrols again."
	case "sign-out":
		var n int
		n, err = f.acct.ExpireSessions(ctx, inst, id)
		notice = strconv.Itoa(n) + " sessions ended."
	case "revoke-session":
		err, notice = f.acct.RevokeSession(ctx, inst, id, r.PostFormValue("session_id")), "Session ended."
	case "revoke-key":
		err, notice = f.acct.RevokeAccessKey(ctx, inst, r.PostFormValue("access_key")), "Access key revoked."
	case "create-key":
		key, secret, err := f.acct.CreateAccessKey(ctx, inst, id, iamd.CredentialOptions{Description: r.PostFormValue("description")})
		if err != nil {
			f.refuse(w, r, s, err)
			return
		}
		// The secret is shown on this answer only (not cached, never rendered again).
		d, err := f.userData(r)
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		d.Secret, d.SecretKey = secret, key.ID
		f.render(w, r, http.StatusOK, "user", pageData{Title: d.User.LoginName, Instance: inst, Caller: s.p, CSRF: s.csrf,
			Notice: "Access key created. Copy its secret now: it is not shown again.", Data: d})
		return
	case "delete":
		// Deleted only at the version the page showed.
		version, perr := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
		if perr != nil || version < 1 {
			err = iamd.Invalid(iamd.FieldVersion, "The form carries no version; reload the page.")
		} else if err = f.dir.DeleteUser(ctx, inst, iamd.UserRef{ID: id, Version: version}); err == nil {
			f.back(w, r, f.instancePath(inst, "/users"), "User deleted.")
			return
		}
	default:
		f.WriteError(w, r, iamd.Errorf(iamd.ENOTFOUND, "No such action."))
		return
	}
	if err != nil {
		f.refuse(w, r, s, err)
		return
	}
	f.back(w, r, here, notice)
}

func (f *Face) groupsPage(w http.ResponseWriter, r *http.Request, s *visit) {
	page, err := f.dir.ListGroups(r.Context(), iamd.GroupFilter{InstanceID: r.PathValue("instance_id"), Limit: iamd.MaxPageSize})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.show(w, r, s, r.PathValue("instance_id"), "groups", "Groups", page)
}

func (f *Face) createGroup(w http.ResponseWriter, r *http.Request, s *visit) {
	inst := r.PathValue("instance_id")
	g, err := f.dir.CreateGroup(r.Context(), &iamd.Group{InstanceID: inst, Name: strings.TrimSpace(r.PostFormValue("name")),
		Description: strings.TrimSpace(r.PostFormValue("description"))}, iamd.GroupMembers{})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.back(w, r, f.instancePath(inst, "/groups/", g.ID), "Group created.")
}

type groupData struct {
	Group   *iamd.Group
	Members iamd.GroupMemberList
}

func (f *Face) groupPage(w http.ResponseWriter, r *http.Request, s *visit) {
	inst, id := r.PathValue("instance_id"), r.PathValue("group_id")
	g, members, err := f.dir.GroupWithMembers(r.Context(), inst, id)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.show(w, r, s, inst, "group", g.Name, groupData{Group: g, Members: members})
}

func (f *Face) rolesPage(w http.ResponseWriter, r *http.Request, s *visit) {
	roles, err := f.dir.ListRoles(r.Context(), r.PathValue("instance_id"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.show(w, r, s, r.PathValue("instance_id"), "roles", "Roles", roles)
}

type eventsData struct {
	Type, Actor, Target string
	Events              []iamd.Event
	Logins              map[string]string
	Next                int64
}

func (f *Face) eventsPage(w http.ResponseWriter, r *http.Request, s *visit) {
	inst, q := r.PathValue("instance_id"), r.URL.Query()
	d := eventsData{Type: q.Get("type"), Actor: q.Get("actor"), Target: q.Get("target")}
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	evs, err := f.dir.ListEvents(r.Context(), iamd.EventFilter{InstanceID: inst, Action: d.Type, ActorID: d.Actor,
		TargetID: d.Target, Before: before, Limit: pageSize + 1})
	if err == nil {
		if len(evs) > pageSize {
			evs = evs[:pageSize]
			d.Next = evs[pageSize-1].ID
		}
		ids := make([]string, 0, 2*len(evs))
		for _, e := range evs {
			ids = append(ids, e.ActorID, e.TargetID)
		}
		d.Events = evs
		d.Logins, err = f.dir.ActorLogins(r.Context(), inst, ids)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.show(w, r, s, inst, "events", "Events", d)
}

func (f *Face) policyPage(w http.ResponseWriter, r *http.Request, s *visit) {
	inst, err := f.dir.GetInstance(r.Context(), r.PathValue("instance_id"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.show(w, r, s, inst.ID, "policy", "Account policy", inst)
}

func (f *Face) setPolicy(w http.ResponseWriter, r *http.Request, s *visit) {
	id := r.PathValue("instance_id")
	var n [5]int
	for i, field := range []string{"password_min_length", "password_history", "password_max_age_days", "lockout_threshold", "lockout_duration_minutes"} {
		v, err := strconv.Atoi(r.PostFormValue(field))
		if err != nil || v < 0 || v > 1<<20 {
			f.WriteError(w, r, iamd.Invalid(field, "%s must be a whole number from 0", strings.ReplaceAll(field, "_", " ")))
			return
		}
		n[i] = v
	}
	err := f.dir.SetAccountPolicy(r.Context(), id, iamd.AccountPolicy{PasswordMinLength: n[0], PasswordHistory: n[1],
		PasswordMaxAge: time.Duration(n[2]) * 24 * time.Hour, LockoutThreshold: n[3], LockoutDuration: time.Duration(n[4]) * time.Minute})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.back(w, r, f.instancePath(id, "/policy"), "Policy saved.")
}
