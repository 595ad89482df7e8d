package ece

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"iamd"
	"iamd/account"
	"iamd/face/wire"
)

type tokenResponse struct {
	Token                 string `json:"token"`
	SessionExpirationTime string `json:"session_expiration_time"`
}

func grantResponse(g *iamd.SessionGrant) tokenResponse {
	return tokenResponse{Token: g.Token, SessionExpirationTime: g.Session.ExpiresAt.UTC().Format(time.RFC3339)}
}

// login signs a platform user in with a password and answers a session token; with
// login_state.path it redirects to ECE's console page for the token instead (ssoRedirect).
func (f *Face) login(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, []string{"username", "password", "login_state"})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	username, err := obj.Required("username")
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	password, err := obj.Required("password")
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	redirect := ""
	if raw, ok := obj["login_state"]; ok && string(raw) != "null" {
		state, err := wire.DecodeObject(raw, []string{"path"})
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		path, err := state.String("path")
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		// Only a path on this host: a login must not become an open redirect.
		if path.Value != "" && !localPath(path.Value) {
			f.WriteError(w, r, newError(http.StatusBadRequest, CodeUserInvalid, "login_state.path must be a path on this host.", "login_state.path"))
			return
		}
		redirect = path.Value
	}
	grant, err := f.acct.SignIn(r.Context(), iamd.SignIn{InstanceID: f.instance, LoginName: username, Password: password})
	if errors.Is(err, account.ErrCodeRequired) {
		f.WriteError(w, r, newError(http.StatusUnauthorized, CodeUnauthenticated,
			"This user signs in with a one-time code as well, which this API cannot carry."))
		return
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	if redirect != "" {
		w.Header().Set("Location", ssoRedirect(grant.Token, redirect))
		writeJSON(w, http.StatusFound, struct{}{})
		return
	}
	writeJSON(w, http.StatusOK, grantResponse(grant))
}

// localPath reports whether path is a path on this host, and reads as one to a browser
// too: it starts with one slash, not two, and carries no backslash or control character,
// which browsers turn into a slash or drop ("/\evil.example" and "/\t/evil.example" both
// become "//evil.example", another host).
func localPath(path string) bool {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return false
	}
	return !strings.ContainsFunc(path, func(c rune) bool { return c == '\\' || unicode.IsControl(c) })
}

// ssoRedirect is where a login with login_state.path goes, in the apidocs' words
// "/sso/token#BEARER_TOKEN?state=LOGIN_STATE": ECE's console page that keeps the token
// from the fragment (never sent to a server) and then goes on to the login state's path.
// What LOGIN_STATE looks like the apidocs do not say; it is the LoginState object as JSON,
// query-escaped, so that the page reads it back whole.
func ssoRedirect(token, path string) string {
	var state bytes.Buffer
	enc := json.NewEncoder(&state)
	enc.SetEscapeHTML(false) // the path as sent: & stays &
	enc.Encode(struct {
		Path string `json:"path"`
	}{path})
	return "/sso/token#" + url.PathEscape(token) + "?state=" + url.QueryEscape(strings.TrimSpace(state.String()))
}

// sessionToken is the token of the Bearer header _refresh and _logout act on.
func sessionToken(r *http.Request) (string, error) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", newError(http.StatusUnauthorized, CodeUnauthorized, "A session token from _login is required.")
	}
	return strings.TrimSpace(token), nil
}

func (f *Face) refresh(w http.ResponseWriter, r *http.Request) {
	token, err := sessionToken(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	grant, err := f.acct.Refresh(r.Context(), token)
	if iamd.ErrorCode(err) == iamd.EUNAUTHENTICATED {
		err = newError(http.StatusUnauthorized, CodeUnauthorized, "The session token is not valid.")
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, grantResponse(grant))
}

func (f *Face) logout(w http.ResponseWriter, r *http.Request) {
	token, err := sessionToken(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	if err := f.acct.SignOut(r.Context(), token); err != nil {
		if iamd.ErrorCode(err) == iamd.EUNAUTHENTICATED {
			err = newError(http.StatusUnauthorized, CodeUnauthorized, "The session token is not valid.")
		}
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// authInfo is ECE's AuthenticationInfo for the caller.
func (f *Face) authInfo(w http.ResponseWriter, r *http.Request) {
	me, err := f.dir.Me(r.Context())
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	info := struct {
		UserID                 string `json:"user_id"`
		HasElevatedPermissions bool   `json:"has_elevated_permissions"`
		ElevatedExpireAt       string `json:"elevated_permissions_expire_at,omitempty"`
		HasTOTPDevice          bool   `json:"has_totp_device"`
		RefreshTokenURL        string `json:"refresh_token_url"`
	}{UserID: me.LoginName, HasTOTPDevice: me.MFAEnabled, RefreshTokenURL: "/api/v1/users/auth/_refresh"}
	if me.ElevatedUntil != nil && me.ElevatedUntil.After(time.Now()) {
		info.HasElevatedPermissions, info.ElevatedExpireAt = true, timeText(me.ElevatedUntil)
	}
	writeJSON(w, http.StatusOK, info)
}

// methods answers which ways to sign in this face offers: passwords only.
func (f *Face) methods(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Password   bool       `json:"password"`
		SAML       bool       `json:"saml"`
		OpenID     bool       `json:"openid"`
		SSOMethods []struct{} `json:"sso_methods"`
	}{Password: true, SSOMethods: []struct{}{}})
}

type keyResponse struct {
	ID             string `json:"id"`
	UserID         string `json:"user_id"`
	Description    string `json:"description"`
	Key            string `json:"key,omitempty"`
	CreationDate   string `json:"creation_date"`
	ExpirationDate string `json:"expiration_date,omitempty"`
}

func toKey(t *iamd.APIToken, userName string) keyResponse {
	return keyResponse{ID: t.ID, UserID: userName, Description: t.Description,
		CreationDate: t.CreatedAt.UTC().Format(time.RFC3339), ExpirationDate: timeText(t.ExpiresAt)}
}

var expirationPattern = regexp.MustCompile(`^([1-9][0-9]{0,5})([smhdw])$`)

// parseExpiration reads ECE's key expirations: a count and a unit, like "1d" or "3h".
func parseExpiration(s string) (time.Duration, error) {
	m := expirationPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, newError(http.StatusBadRequest, "api_keys.invalid_input",
			`expiration must be a count and a unit (s, m, h, d or w), like "1d" or "3h".`, "expiration")
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

func keyError(err error) error {
	switch iamd.ErrorCode(err) {
	case iamd.ENOTFOUND:
		return newError(http.StatusNotFound, "api_keys.key_not_found", "The API key could not be found.")
	case iamd.EINVALID:
		fields := []string{}
		if f := iamd.ErrorField(err); f != "" {
			fields = append(fields, f)
		}
		return newError(http.StatusBadRequest, "api_keys.invalid_input", iamd.ErrorMessage(err), fields...)
	}
	return err
}

// keyOwner is the user whose keys a request names: the caller, or {user_id}.
func (f *Face) keyOwner(r *http.Request) (*iamd.User, error) {
	name := r.PathValue("user_id")
	if name == "" {
		return f.dir.Me(r.Context())
	}
	u, err := f.dir.FindUserByLogin(r.Context(), caller(r).InstanceID, name)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		return nil, newError(http.StatusNotFound, "api_keys.user_not_found", "The user "+name+" could not be found.", "user_id")
	}
	return u, err
}

func (f *Face) createKey(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, []string{"description", "expiration", "role_assignments"})
	if err != nil {
		f.WriteError(w, r, keyError(err))
		return
	}
	if _, ok := obj["role_assignments"]; ok {
		f.WriteError(w, r, newError(http.StatusBadRequest, "api_keys.invalid_input",
			"role_assignments is not available in self-hosted ECE: a key has its creator's roles.", "role_assignments"))
		return
	}
	description, err := obj.Required("description")
	if err != nil {
		f.WriteError(w, r, newError(http.StatusBadRequest, "api_keys.invalid_input", "description is required.", "description"))
		return
	}
	opts := iamd.CredentialOptions{Description: description}
	if exp, err := obj.String("expiration"); err != nil {
		f.WriteError(w, r, keyError(err))
		return
	} else if exp.Value != "" {
		d, err := parseExpiration(exp.Value)
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		at := time.Now().Add(d)
		opts.ExpiresAt = &at
	}
	me, err := f.dir.Me(r.Context())
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	t, key, err := f.acct.CreateAPIToken(r.Context(), me.InstanceID, me.ID, opts)
	if err != nil {
		f.WriteError(w, r, keyError(err))
		return
	}
	out := toKey(t, me.LoginName)
	out.Key = key // shown this once
	writeJSON(w, http.StatusCreated, out)
}

// ownerKeys returns the user a request names (see keyOwner) and its keys.
func (f *Face) ownerKeys(r *http.Request) (*iamd.User, []iamd.APIToken, error) {
	u, err := f.keyOwner(r)
	if err != nil {
		return nil, nil, err
	}
	toks, err := f.acct.ListAPITokens(r.Context(), u.InstanceID, u.ID)
	if err != nil {
		return nil, nil, keyError(err)
	}
	return u, toks, nil
}

func (f *Face) listKeys(w http.ResponseWriter, r *http.Request) {
	u, toks, err := f.ownerKeys(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := struct {
		Keys []keyResponse `json:"keys"`
	}{Keys: []keyResponse{}}
	for i := range toks {
		out.Keys = append(out.Keys, toKey(&toks[i], u.LoginName))
	}
	writeJSON(w, http.StatusOK, out)
}

// ownedKey finds key {api_key_id} among the named user's keys.
func (f *Face) ownedKey(r *http.Request) (*iamd.User, *iamd.APIToken, error) {
	u, toks, err := f.ownerKeys(r)
	if err != nil {
		return nil, nil, err
	}
	for i := range toks {
		if toks[i].ID == r.PathValue("api_key_id") {
			return u, &toks[i], nil
		}
	}
	return nil, nil, keyError(iamd.Errorf(iamd.ENOTFOUND, "no such key"))
}

func (f *Face) getKey(w http.ResponseWriter, r *http.Request) {
	u, t, err := f.ownedKey(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toKey(t, u.LoginName))
}

func (f *Face) deleteKey(w http.ResponseWriter, r *http.Request) {
	u, t, err := f.ownedKey(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	if err := f.acct.RevokeAPIToken(r.Context(), u.InstanceID, t.ID); err != nil {
		f.WriteError(w, r, keyError(err))
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// deleteKeys revokes the caller's keys named in {"keys":[…]}, or every key of
// {user_id} (DELETE /users/{user_id}/auth/keys).
func (f *Face) deleteKeys(w http.ResponseWriter, r *http.Request) {
	u, toks, err := f.ownerKeys(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	revoke := map[string]bool{}
	if r.PathValue("user_id") == "" {
		obj, err := wire.ReadObject(r, []string{"keys"})
		if err != nil {
			f.WriteError(w, r, keyError(err))
			return
		}
		ids, err := obj.Strings("keys")
		if err != nil || len(ids) == 0 {
			f.WriteError(w, r, newError(http.StatusBadRequest, "api_keys.invalid_input", "keys must list the ids of the keys to delete.", "keys"))
			return
		}
		owned := map[string]bool{}
		for _, t := range toks {
			owned[t.ID] = true
		}
		for _, id := range ids {
			if !owned[id] { // checked before any is revoked: all or nothing
				f.WriteError(w, r, keyError(iamd.Errorf(iamd.ENOTFOUND, "no such key")))
				return
			}
			revoke[id] = true
		}
	} else {
		for _, t := range toks {
			revoke[t.ID] = true
		}
	}
	if len(revoke) > 0 {
		if err := f.acct.RevokeAPITokens(r.Context(), u.InstanceID, slices.Collect(maps.Keys(revoke))); err != nil {
			f.WriteError(w, r, keyError(err))
			return
		}
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// listAllKeys lists every user's keys (GET /users/auth/keys/_all, USER_READ).
func (f *Face) listAllKeys(w http.ResponseWriter, r *http.Request) {
	inst := caller(r).InstanceID
	toks, err := f.acct.ListInstanceAPITokens(r.Context(), inst)
	if err != nil {
		f.WriteError(w, r, keyError(err))
		return
	}
	owners := make([]string, len(toks))
	for i := range toks {
		owners[i] = toks[i].UserID
	}
	names, err := f.dir.ActorLogins(r.Context(), inst, owners) // one read for every owner
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := struct {
		Keys []keyResponse `json:"keys"`
	}{Keys: []keyResponse{}}
	for i := range toks {
		name, ok := names[toks[i].UserID]
		if !ok { // an owner deleted since the tokens were read: its keys went with it
			continue
		}
		out.Keys = append(out.Keys, toKey(&toks[i], name))
	}
	writeJSON(w, http.StatusOK, out)
}

// userAPIKey is ECE's UserApiKey: a key named with its owner.
type userAPIKey struct {
	UserID   string `json:"user_id"`
	APIKeyID string `json:"api_key_id"`
}

func (k userAPIKey) incomplete() bool { return k.UserID == "" || k.APIKeyID == "" }

// deleteAllKeys revokes the keys named in {"user_api_keys":[{"user_id","api_key_id"}]},
// any user's: all are checked before any is revoked.
func (f *Face) deleteAllKeys(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, []string{"user_api_keys"})
	if err != nil {
		f.WriteError(w, r, keyError(err))
		return
	}
	raw, ok := obj["user_api_keys"]
	var pairs []userAPIKey
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if !ok || dec.Decode(&pairs) != nil || len(pairs) == 0 || slices.ContainsFunc(pairs, userAPIKey.incomplete) {
		f.WriteError(w, r, newError(http.StatusBadRequest, "api_keys.invalid_input",
			"user_api_keys must list objects with user_id and api_key_id.", "user_api_keys"))
		return
	}
	inst := caller(r).InstanceID
	toks, err := f.acct.ListInstanceAPITokens(r.Context(), inst)
	if err != nil {
		f.WriteError(w, r, keyError(err))
		return
	}
	owner := map[string]string{} // token id → owner's user id
	for _, t := range toks {
		owner[t.ID] = t.UserID
	}
	var revoke []string
	for _, p := range pairs {
		u, err := f.dir.FindUserByLogin(r.Context(), inst, p.UserID)
		if iamd.ErrorCode(err) == iamd.ENOTFOUND {
			f.WriteError(w, r, newError(http.StatusNotFound, "api_keys.user_not_found", "The user "+p.UserID+" could not be found.", "user_id"))
			return
		} else if err != nil {
			f.WriteError(w, r, err)
			return
		}
		if owner[p.APIKeyID] != u.ID {
			f.WriteError(w, r, keyError(iamd.Errorf(iamd.ENOTFOUND, "no such key")))
			return
		}
		revoke = append(revoke, p.APIKeyID)
	}
	if err := f.acct.RevokeAPITokens(r.Context(), inst, revoke); err != nil {
		f.WriteError(w, r, keyError(err))
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
