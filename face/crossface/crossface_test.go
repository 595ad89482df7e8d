// Package crossface_test holds the tests every face must pass alike, through each face's
// real wire API on both stores: one caller, one set of rules. A caller that may not act
// on a user is refused through every face, learns nothing from what it sent, and changes
// nothing; common passwords are refused wherever a password is set.
package crossface_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"iamd"
	"iamd/account"
	"iamd/face/ece"
	"iamd/face/native"
	"iamd/face/ncloud"
	"iamd/face/scim"
	"iamd/face/scp"
	"iamd/face/vikingcloud"
	"iamd/internal/facetest"
	"iamd/internal/openapitest"
	"iamd/internal/pgtest"
	"iamd/internal/servertest"
	"iamd/server"
	"iamd/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

const (
	inst          = "default"
	adminPassword = "the administrator's passphrase"
	adminToken    = "iamd_crossface_admin_token_0123456789"
	adminKey      = "CROSSFACEADMINKEY001"
	adminSecret   = "crossface-admin-secret-0123456789"
)

type env struct {
	t      *testing.T
	base   string
	core   *facetest.Core
	store  iamd.Store
	admin  context.Context
	checks map[string]*openapitest.Validator // by face prefix
	mounts []server.Mount
}

// start serves every face over store, as iamd serve mounts them.
func start(t *testing.T, store iamd.Store) *env { return startConfigured(t, store, server.Config{}) }

// startConfigured is start with cfg's settings for the server besides the faces.
func startConfigured(t *testing.T, store iamd.Store, cfg server.Config) *env {
	core := facetest.Start(t, store, account.BootstrapConfig{DefaultInstance: inst, AdminPassword: adminPassword, AdminAPIToken: adminToken,
		AdminAccessKey: adminKey, AdminSecretKey: adminSecret})
	logger := core.Logger
	scpFace, err := scp.New(scp.Config{Users: core.Directory, Groups: core.Directory, Auth: core.Accounts, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	nativeFace, err := native.New(native.Config{Accounts: core.Accounts, Directory: core.Directory, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	eceFace, err := ece.New(ece.Config{Directory: core.Directory, Accounts: core.Accounts, Instance: inst, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	scimFace, err := scim.New(scim.Config{Directory: core.Directory, Accounts: core.Accounts, Instance: inst, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ncloudFace, err := ncloud.New(ncloud.Config{Directory: core.Directory, Accounts: core.Accounts, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	vikingFace, err := vikingcloud.New(vikingcloud.Config{Directory: core.Directory, Accounts: core.Accounts, Instance: inst, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := eceFace.EnsureBuiltinUsers(context.Background()); err != nil {
		t.Fatal(err)
	}
	mounts := []server.Mount{
		{Prefix: "/scp", Face: scpFace}, {Prefix: "/iamd", Face: nativeFace}, {Prefix: "/ece", Face: eceFace},
		{Prefix: "/scim/v2", Face: scimFace}, {Prefix: "/ncloud", Face: ncloudFace}, {Prefix: "/vikingcloud", Face: vikingFace}}
	cfg.RequestContext, cfg.Logger, cfg.Ready, cfg.Mounts = server.ReadScope(store), logger, store.Ping, mounts
	base := servertest.Serve(t, cfg)["main"]
	admin, err := core.Accounts.AuthenticateToken(context.Background(), adminToken)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, base: base, core: core, store: store, admin: iamd.NewContextWithPrincipal(context.Background(), admin), mounts: mounts,
		checks: map[string]*openapitest.Validator{
			"/scp":         openapitest.New(t, scp.OpenAPIDocument(), base+"/scp", "ErrorResponse"),
			"/iamd":        openapitest.New(t, native.OpenAPIDocument(), base+"/iamd", "Error"),
			"/ece":         openapitest.New(t, ece.OpenAPIDocument(), base+"/ece/api/v1", "BasicFailedReply"),
			"/scim/v2":     openapitest.New(t, scim.OpenAPIDocument(), base+"/scim/v2", "Error"),
			"/ncloud":      openapitest.New(t, ncloud.OpenAPIDocument(), base+"/ncloud"+ncloud.BasePath, "GatewayError"),
			"/vikingcloud": openapitest.New(t, vikingcloud.OpenAPIDocument(), base+"/vikingcloud", "Error"),
		}}
	if _, err := core.Directory.CreateRole(e.admin, &iamd.Role{InstanceID: inst, Name: "helpdesk",
		Privileges: []string{iamd.PrivilegeUserRead, iamd.PrivilegeUserWrite, iamd.PrivilegeUserDelete}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Logs.CheckNoSecrets(t, adminPassword, adminToken, adminSecret) })
	return e
}

// caller is a user of the instance with every kind of credential the faces take.
type caller struct {
	e                            *env
	user                         *iamd.User
	password, token, key, secret string
}

var userSeq int

// newUser stores a user with roles, a password, MFA, an API token and an access key.
func (e *env) newUser(login string, roles ...string) caller {
	e.t.Helper()
	userSeq++
	login = fmt.Sprintf("%s%d", login, userSeq)
	c := caller{e: e, password: fmt.Sprintf("violet staple kettle number %d", userSeq)}
	u, err := e.core.Directory.CreateUser(e.admin, &iamd.User{InstanceID: inst, LoginName: login, Email: login + "@example.com",
		Roles: roles}, iamd.CreateUserOptions{Password: c.password, MFA: &iamd.MFASetting{Enabled: true, Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, c.token, err = e.core.Accounts.CreateAPIToken(e.admin, inst, u.ID, iamd.CredentialOptions{}); err != nil {
		e.t.Fatal(err)
	}
	k, secret, err := e.core.Accounts.CreateAccessKey(e.admin, inst, u.ID, iamd.CredentialOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	c.key, c.secret, c.user = k.ID, secret, u
	return c
}

// reply is a face's answer.
type reply struct {
	status int
	raw    string
	header http.Header
}

func (r reply) String() string { return fmt.Sprintf("%d %.300s", r.status, r.raw) }

// send makes a request as c through the face at prefix, authenticated as that face's
// clients do, and checks the answer against the face's OpenAPI document.
func (c caller) send(method, prefix, path, body string) reply {
	e := c.e
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+prefix+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	switch prefix {
	case "/scp":
		for _, h := range scp.SignedHeaders(c.secret, method, e.base+prefix+path, ts, c.key, "", "Openapi") {
			req.Header.Set(h[0], h[1])
		}
	case "/ncloud":
		for _, h := range ncloud.SignedHeaders(c.secret, method, req.URL.RequestURI(), ts, c.key) {
			req.Header.Set(h[0], h[1])
		}
	case "/ece":
		req.Header.Set("Authorization", "ApiKey "+c.token)
	case "/vikingcloud":
		req.Header.Set("x-auth-token", c.token)
	default:
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	req.Body = io.NopCloser(strings.NewReader(body))
	e.checks[prefix].Check(e.t, req, resp.StatusCode, resp.Header, raw)
	for _, secret := range []string{c.password, c.token, c.secret, adminPassword, adminToken, adminSecret} {
		if secret != "" && bytes.Contains(raw, []byte(secret)) {
			e.t.Fatalf("%s %s answered a secret: %s", method, path, raw)
		}
	}
	return reply{resp.StatusCode, string(raw), resp.Header}
}

// ncloudID is a user id as NAVER Cloud writes it.
func ncloudID(u *iamd.User) string { return iamd.UUIDForm(u.ID) }

// An act is one thing a caller tries to do to a user through one face, and how that
// face says it was refused.
type act struct {
	face, name string
	do         func(c caller, u *iamd.User, pw string) reply // pw: the password a password act sets
	refused    func(r reply) bool
}

// forbidden is how faces answer a caller that may not: 403, or NAVER Cloud's gateway
// 401 with 210 "Permission Denied"; a batch answers the item alone.
func forbidden(r reply) bool { return r.status == http.StatusForbidden }

func gatewayDenied(r reply) bool {
	return r.status == http.StatusUnauthorized && strings.Contains(r.raw, `"errorCode":"210"`)
}

func itemRefused(r reply) bool {
	return r.status == http.StatusOK && strings.Contains(r.raw, `"success":false`) || gatewayDenied(r)
}

func vk(u *iamd.User, more string) string {
	return `{"userKey":{"username":"` + u.LoginName + `","authenticator":"local"}` + more + `}`
}

func scimPatch(op string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + op + `]}`
}

const newPassword = "a new passphrase nobody guessed"

// acts lists, for every face, the changes it offers on another user.
var acts = []act{
	{"scp", "change profile", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PATCH", "/scp", "/v1/users/"+u.ID, `{"instance_id":"`+inst+`","name":"Changed"}`)
	}, forbidden},
	{"scp", "delete", func(c caller, u *iamd.User, pw string) reply {
		return c.send("DELETE", "/scp", "/v1/users/"+u.ID+"?instance_id="+inst, "")
	}, forbidden},
	{"ncloud", "change profile", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PUT", "/ncloud", "/api/v1/users/"+ncloudID(u), `{"description":"changed","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}`)
	}, gatewayDenied},
	{"ncloud", "deny API access", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PUT", "/ncloud", "/api/v1/users/"+ncloudID(u)+"/access-rules", `{"consoleAccessAllowed":true,"apiAccessAllowed":false}`)
	}, gatewayDenied},
	{"ncloud", "disable", func(c caller, u *iamd.User, pw string) reply {
		return c.send("POST", "/ncloud", "/api/v1/users/disable", `{"userIds":["`+ncloudID(u)+`"]}`)
	}, itemRefused},
	{"ncloud", "reset MFA", func(c caller, u *iamd.User, pw string) reply {
		return c.send("DELETE", "/ncloud", "/api/v1/users/"+ncloudID(u)+"/mfa-devices", "")
	}, gatewayDenied},
	{"ncloud", "sign out everywhere", func(c caller, u *iamd.User, pw string) reply {
		return c.send("POST", "/ncloud", "/api/v1/users/"+ncloudID(u)+"/sessions/expire", "")
	}, gatewayDenied},
	{"ncloud", "tag", func(c caller, u *iamd.User, pw string) reply {
		return c.send("POST", "/ncloud", "/api/v1/users/"+ncloudID(u)+"/tags", `{"tags":[{"tagKey":"k","tagValue":"v"}]}`)
	}, gatewayDenied},
	{"ncloud", "delete", func(c caller, u *iamd.User, pw string) reply {
		return c.send("DELETE", "/ncloud", "/api/v1/users/"+ncloudID(u), "")
	}, gatewayDenied},
	{"ece", "change profile", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PATCH", "/ece", "/api/v1/users/"+u.LoginName, `{"full_name":"Changed"}`)
	}, forbidden},
	{"ece", "set password", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PATCH", "/ece", "/api/v1/users/"+u.LoginName, `{"user_name":"`+u.LoginName+`","security":{"password":"`+pw+`"}}`)
	}, forbidden},
	{"ece", "disable", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PATCH", "/ece", "/api/v1/users/"+u.LoginName, `{"user_name":"`+u.LoginName+`","security":{"enabled":false}}`)
	}, forbidden},
	{"ece", "delete", func(c caller, u *iamd.User, pw string) reply {
		return c.send("DELETE", "/ece", "/api/v1/users/"+u.LoginName, "")
	}, forbidden},
	{"scim", "change profile", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PATCH", "/scim/v2", "/Users/"+u.ID, scimPatch(`{"op":"replace","path":"displayName","value":"Changed"}`))
	}, forbidden},
	{"scim", "set password (PATCH)", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PATCH", "/scim/v2", "/Users/"+u.ID, scimPatch(`{"op":"replace","path":"password","value":"`+pw+`"}`))
	}, forbidden},
	{"scim", "set password (PUT)", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PUT", "/scim/v2", "/Users/"+u.ID, `{"schemas":["`+scim.SchemaUser+`"],"userName":"`+u.LoginName+`","password":"`+pw+`"}`)
	}, forbidden},
	{"scim", "disable", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PATCH", "/scim/v2", "/Users/"+u.ID, scimPatch(`{"op":"replace","value":{"active":false}}`))
	}, forbidden},
	{"scim", "set password (Bulk)", func(c caller, u *iamd.User, pw string) reply {
		r := c.send("POST", "/scim/v2", "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
			{"method":"PATCH","path":"/Users/`+u.ID+`","data":`+scimPatch(`{"op":"replace","path":"password","value":"`+pw+`"}`)+`}]}`)
		var bulk struct {
			Operations []struct {
				Status string `json:"status"`
			} `json:"Operations"`
		}
		if json.Unmarshal([]byte(r.raw), &bulk) == nil && len(bulk.Operations) == 1 {
			r.status, _ = strconv.Atoi(bulk.Operations[0].Status)
		}
		return r
	}, forbidden},
	{"scim", "delete", func(c caller, u *iamd.User, pw string) reply {
		return c.send("DELETE", "/scim/v2", "/Users/"+u.ID, "")
	}, forbidden},
	{"native", "change profile", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PATCH", "/iamd", "/v1/instances/"+inst+"/users/"+u.ID, fmt.Sprintf(`{"version":%d,"department":"Changed"}`, u.Version))
	}, forbidden},
	{"native", "set password", func(c caller, u *iamd.User, pw string) reply {
		return c.send("PUT", "/iamd", "/v1/instances/"+inst+"/users/"+u.ID+"/password", `{"password":"`+pw+`"}`)
	}, forbidden},
	{"native", "reset MFA", func(c caller, u *iamd.User, pw string) reply {
		return c.send("DELETE", "/iamd", "/v1/instances/"+inst+"/users/"+u.ID+"/mfa", "")
	}, forbidden},
	{"native", "sign out everywhere", func(c caller, u *iamd.User, pw string) reply {
		return c.send("DELETE", "/iamd", "/v1/instances/"+inst+"/users/"+u.ID+"/sessions", "")
	}, forbidden},
	{"native", "delete", func(c caller, u *iamd.User, pw string) reply {
		return c.send("DELETE", "/iamd", "/v1/instances/"+inst+"/users/"+u.ID, "")
	}, forbidden},
	{"vikingcloud", "change profile", func(c caller, u *iamd.User, pw string) reply {
		return c.send("POST", "/vikingcloud", "/user-service/v1/user", vk(u, `,"firstName":"Changed"`))
	}, forbidden},
	{"vikingcloud", "set password", func(c caller, u *iamd.User, pw string) reply {
		return c.send("POST", "/vikingcloud", "/user-service/v1/user", vk(u, `,"password":"`+pw+`"`))
	}, forbidden},
	{"vikingcloud", "turn MFA off", func(c caller, u *iamd.User, pw string) reply {
		return c.send("POST", "/vikingcloud", "/user-service/v1/user", vk(u, `,"usingMfa":false`))
	}, forbidden},
	{"vikingcloud", "lock", func(c caller, u *iamd.User, pw string) reply {
		return c.send("POST", "/vikingcloud", "/user-service/v1/user", vk(u, `,"locked":true`))
	}, forbidden},
	{"vikingcloud", "delete", func(c caller, u *iamd.User, pw string) reply {
		return c.send("DELETE", "/vikingcloud", "/user-service/v1/user/local/"+u.LoginName, "")
	}, forbidden},
}

// unchanged checks that u is as it was: its record, its password and its MFA.
func (e *env) unchanged(what string, u *iamd.User, password string) {
	e.t.Helper()
	got, err := e.store.GetUser(context.Background(), inst, u.ID)
	if err != nil {
		e.t.Fatalf("%s: the user is gone: %v", what, err)
	}
	if got.Version != u.Version || got.PasswordHash != u.PasswordHash || got.MFAEnabled != u.MFAEnabled || got.Status != u.Status {
		e.t.Fatalf("%s: the refusal changed the user (version %d → %d)", what, u.Version, got.Version)
	}
	if password != "" {
		// The password still works: a user enrolled in MFA is asked for its code (which a
		// wrong password never is), any other is let in.
		if u.MFAEnabled {
			if _, err := e.core.Accounts.SignIn(context.Background(), iamd.SignIn{InstanceID: inst, LoginName: u.LoginName,
				Password: password}); !errors.Is(err, account.ErrCodeRequired) {
				e.t.Fatalf("%s: the password no longer works: %v", what, err)
			}
		} else if _, err := e.core.Accounts.AuthenticatePassword(context.Background(), inst, u.LoginName, password); err != nil {
			e.t.Fatalf("%s: the password no longer works: %v", what, err)
		}
	}
}

// current reads a user again, as the store has it.
func (e *env) current(u *iamd.User) *iamd.User {
	e.t.Helper()
	got, err := e.store.GetUser(context.Background(), inst, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// No caller climbs: a helpdesk user (USER_READ, USER_WRITE, USER_DELETE) is refused,
// through every face, every change of an instance administrator and of the platform
// administrator — and nothing changes — while the same acts on a user with no more
// rights than its own succeed.
func TestNoCallerClimbsThroughAnyFace(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			e := start(t, engine.Open(t))
			helper := e.newUser("helper", "helpdesk")
			boss := e.newUser("boss", "iamd_admin")
			platformAdmin, err := e.core.Directory.FindUserByLogin(e.admin, inst, "admin")
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range acts {
				for _, target := range []caller{boss, {user: platformAdmin, password: adminPassword}} {
					u := e.current(target.user)
					r := a.do(helper, u, newPassword)
					if !a.refused(r) {
						t.Errorf("%s: helpdesk may %s of %s: %s", a.face, a.name, u.LoginName, r)
						continue
					}
					e.unchanged(a.face+" "+a.name+" of "+u.LoginName, u, target.password)
				}
				plain := e.newUser("plain")
				if r := a.do(helper, plain.user, newPassword); r.status >= 300 || a.refused(r) {
					t.Errorf("%s: helpdesk may not %s of a plain user: %s", a.face, a.name, r)
				}
			}
			// Nor grants itself what it lacks.
			before, err := e.store.GetUserRights(context.Background(), inst, helper.user.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, try := range []func() reply{
				func() reply {
					return helper.send("PATCH", "/ece", "/api/v1/users/"+helper.user.LoginName, `{"security":{"roles":["ece_platform_admin"]}}`)
				},
				func() reply {
					return helper.send("PATCH", "/scim/v2", "/Users/"+helper.user.ID, scimPatch(`{"op":"add","path":"roles","value":[{"value":"iamd_admin"}]}`))
				},
				func() reply {
					return helper.send("POST", "/vikingcloud", "/user-service/v1/user", vk(helper.user, `,"roles":[{"name":"iamd_admin"}]`))
				},
				func() reply {
					return helper.send("POST", "/vikingcloud", "/user-service/v1/user", vk(helper.user, `,"privileges":[{"name":"ROLE_WRITE"}]`))
				},
				func() reply {
					self := e.current(helper.user)
					return helper.send("PATCH", "/iamd", "/v1/instances/"+inst+"/users/"+self.ID,
						fmt.Sprintf(`{"version":%d,"roles":["iamd_admin"]}`, self.Version))
				},
			} {
				if r := try(); r.status != http.StatusForbidden {
					t.Errorf("helpdesk granting itself: %s", r)
				}
			}
			rights, err := e.store.GetUserRights(context.Background(), inst, helper.user.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(rights.Privileges) != 3 {
				t.Fatalf("the helpdesk user climbed to %v", rights.Privileges)
			}
			if !reflect.DeepEqual(rights, before) {
				t.Fatalf("the helpdesk user's rights changed: %+v → %+v", before, rights)
			}
		})
	}
}

var timestamp = regexp.MustCompile(`"timestamp":"[^"]*"`)

// The password oracle is closed: a caller refused a password change gets the same
// answer whether its guess is the target's current password (which the history rule
// would refuse) or not, through every face that sets passwords; nothing is counted.
func TestNoPasswordOracleThroughAnyFace(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			e := start(t, engine.Open(t))
			boss := e.newUser("boss", "iamd_admin")
			for _, c := range []caller{e.newUser("viewer", "iamd_viewer"), e.newUser("helper", "helpdesk")} {
				for _, a := range acts {
					if !strings.Contains(a.name, "password") {
						continue
					}
					var answers []reply
					for _, guess := range []string{boss.password, "some other long passphrase", "password123"} {
						r := a.do(c, e.current(boss.user), guess)
						r.raw = timestamp.ReplaceAllString(r.raw, "") // Spring's error carries the time
						answers = append(answers, r)
					}
					for _, r := range answers {
						if r.status != answers[0].status || r.raw != answers[0].raw || !a.refused(r) {
							t.Errorf("%s %s: the answers differ, or one passes: %v", a.face, a.name, answers)
						}
					}
				}
			}
			e.unchanged("the oracle's guesses", boss.user, boss.password)
			if got := e.current(boss.user); got.PasswordFailedCount != 0 {
				t.Fatalf("guesses counted: %d", got.PasswordFailedCount)
			}
		})
	}
}

// The common passwords are refused by every face that sets a password, in the
// face's own shape, naming the password field.
func TestCommonPasswordsRefusedByEveryFace(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			e := start(t, engine.Open(t))
			admin := caller{e: e, token: adminToken, key: adminKey, secret: adminSecret}
			for i, pw := range []string{"password123", "p@ssw0rd", "admin123", "Password123!", "qwerty12345"} {
				sets := map[string]reply{
					"scp create": admin.send("POST", "/scp", "/v1/users", fmt.Sprintf(`{"instance_id":"%s","user_id":"scp%d","name":"S","password":"%s"}`, inst, i, pw)),
					"ece create": admin.send("POST", "/ece", "/api/v1/users", fmt.Sprintf(`{"user_name":"ece%d","security":{"roles":["ece_platform_viewer"],"password":"%s"}}`, i, pw)),
					"scim create": admin.send("POST", "/scim/v2", "/Users",
						fmt.Sprintf(`{"schemas":["%s"],"userName":"scim%d","password":"%s"}`, scim.SchemaUser, i, pw)),
					"vikingcloud create": admin.send("PUT", "/vikingcloud", "/user-service/v1/user",
						fmt.Sprintf(`{"userKey":{"username":"vk%d","authenticator":"local"},"password":"%s"}`, i, pw)),
				}
				target := e.newUser("target")
				sets["ece change"] = admin.send("PATCH", "/ece", "/api/v1/users/"+target.user.LoginName, `{"security":{"password":"`+pw+`"}}`)
				sets["scim change"] = admin.send("PATCH", "/scim/v2", "/Users/"+target.user.ID, scimPatch(`{"op":"replace","path":"password","value":"`+pw+`"}`))
				sets["vikingcloud change"] = admin.send("POST", "/vikingcloud", "/user-service/v1/user", vk(target.user, `,"password":"`+pw+`"`))
				sets["native own"] = target.send("PUT", "/iamd", "/v1/me/password", `{"current_password":"`+target.password+`","new_password":"`+pw+`"}`)
				for how, r := range sets {
					if r.status != http.StatusBadRequest || !strings.Contains(strings.ToLower(r.raw), "password") ||
						!strings.Contains(r.raw, "common") {
						t.Errorf("%s with %q: %s", how, pw, r)
					}
				}
				e.unchanged("common passwords", target.user, target.password)
				for _, login := range []string{fmt.Sprintf("scp%d", i), fmt.Sprintf("ece%d", i), fmt.Sprintf("scim%d", i), fmt.Sprintf("vk%d", i)} {
					if _, err := e.core.Directory.FindUserByLogin(e.admin, inst, login); iamd.ErrorCode(err) != iamd.ENOTFOUND {
						t.Errorf("refused create of %s with %q: stored anyway (%v)", login, pw, err)
					}
				}
			}
		})
	}
}
