package vikingcloud

import (
	"context"
	"net/http"

	"iamd"
	"iamd/account"
)

type tokenIn struct {
	Username     string `json:"username"`
	Password     string `json:"password"`
	MfaCode      string `json:"mfaCode"`
	NewPassword  string `json:"newPassword"`
	RefreshToken string `json:"refreshToken"`
}

type tokenOut struct {
	AccessToken  string `json:"accessToken"`
	ExpiresIn    int    `json:"expiresIn"`
	IDToken      string `json:"idToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
}

// grantOut answers a session: the session token is the access token, the ID token
// names the user, and the refresh token is a secret of its own, good only to refresh
// (which replaces all three).
func (f *Face) grantOut(ctx context.Context, grant *iamd.SessionGrant) (tokenOut, error) {
	id, err := f.acct.IDToken(ctx, grant.Session)
	if err != nil {
		return tokenOut{}, err
	}
	return tokenOut{AccessToken: grant.Token, ExpiresIn: int(grant.Session.ExpiresAt.Sub(grant.Session.CreatedAt).Seconds()),
		IDToken: id, RefreshToken: f.acct.RefreshToken(grant.Session), TokenType: "Bearer"}, nil
}

// token is the token API: POST /auth-service/v1/token with {username, password}, and
// mfaCode for a user enrolled in MFA. A user whose password is temporary or expired
// must send newPassword too: the password is changed and the session opened at once.
// Wrong credentials, a locked, expired or suspended user all answer one 401; the audit
// log has the reason.
func (f *Face) token(w http.ResponseWriter, r *http.Request) {
	var in tokenIn
	if err := decode(r, &in); err != nil {
		f.WriteError(w, r, err)
		return
	}
	if in.Username == "" || in.Password == "" {
		f.WriteError(w, r, badRequest("Fields \"username\" and \"password\" are required"))
		return
	}
	signIn := iamd.SignIn{InstanceID: f.cfg.Instance, LoginName: in.Username, Password: in.Password, TOTPCode: in.MfaCode,
		NewPassword: in.NewPassword}
	grant, err := f.acct.SignIn(r.Context(), signIn)
	if err == account.ErrCodeRequired {
		f.writeError(w, r, http.StatusUnauthorized, "A one-time code is required: send mfaCode from the user's authenticator.")
		return
	}
	if err != nil {
		f.writeErrorIn(w, r, err, tokenFields)
		return
	}
	if grant.Session.PasswordChangeOnly { // no newPassword came with a temporary or expired one
		f.writeError(w, r, http.StatusForbidden, "The password is temporary or has expired: send newPassword to set a new one.")
		return
	}
	out, err := f.grantOut(r.Context(), grant)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// refresh exchanges a refresh token for new tokens; the old ones, the refresh token
// among them, stop working. Only a refresh token refreshes: an access or ID token is
// refused as a bad credential.
func (f *Face) refresh(w http.ResponseWriter, r *http.Request) {
	var in tokenIn
	if err := decode(r, &in); err != nil {
		f.WriteError(w, r, err)
		return
	}
	if in.RefreshToken == "" {
		f.WriteError(w, r, badRequest("Field \"refreshToken\" cannot be null"))
		return
	}
	grant, err := f.acct.RefreshWithToken(r.Context(), in.RefreshToken)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out, err := f.grantOut(r.Context(), grant)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
