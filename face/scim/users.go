package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"iamd/face/wire"

	"iamd"
)

// Paging of listings (RFC 7644 §3.4.2.4): count defaults to 100 and is at most 1000,
// the maximum this server advertises.
const (
	defaultCount = 100
	maxCount     = iamd.MaxPageSize
)

const schemaListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

type baseKey struct{}

// withBase records the face's base URL, for meta.location.
func withBase(ctx context.Context, r *http.Request, prefix string) context.Context {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return context.WithValue(ctx, baseKey{}, scheme+"://"+r.Host+prefix)
}

func baseURL(ctx context.Context) string {
	s, _ := ctx.Value(baseKey{}).(string)
	return s
}

// The types a User is written from keep their fields in the order of their JSON names
// (byte order, as encoding/json sorts a map's keys): a user with no kept attributes is
// listed straight from them, and a user with some is written through a map (userDoc),
// and both come out byte for byte alike.

type multiValue struct {
	Primary bool   `json:"primary,omitempty"`
	Type    string `json:"type,omitempty"`
	Value   string `json:"value"`
}

// nameOut is the name the canonical record holds; formatted and the other parts are kept
// beside it, as written.
type nameOut struct {
	FamilyName string `json:"familyName,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
}

type enterpriseOut struct {
	Department     string      `json:"department,omitempty"`
	Division       string      `json:"division,omitempty"`
	EmployeeNumber string      `json:"employeeNumber,omitempty"`
	Manager        *managerOut `json:"manager,omitempty"`
	Organization   string      `json:"organization,omitempty"`
}

type managerOut struct {
	Value string `json:"value"`
}

type groupRef struct {
	Ref     string `json:"$ref"`
	Display string `json:"display"`
	Type    string `json:"type"` // direct, or indirect: through a nested group
	Value   string `json:"value"`
}

// roleOut is one of the user's direct roles (the core's roles of the instance).
type roleOut struct {
	Display string `json:"display"`
	Value   string `json:"value"`
}

type metaOut struct {
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Location     string `json:"location"`
	ResourceType string `json:"resourceType"`
	Version      string `json:"version"`
}

type userOut struct {
	Active       bool           `json:"active"`
	DisplayName  string         `json:"displayName,omitempty"`
	Emails       []multiValue   `json:"emails,omitempty"`
	ExternalID   string         `json:"externalId,omitempty"`
	Groups       []groupRef     `json:"groups,omitempty"`
	ID           string         `json:"id"`
	Locale       string         `json:"locale,omitempty"`
	Meta         metaOut        `json:"meta"`
	Name         *nameOut       `json:"name,omitempty"`
	PhoneNumbers []multiValue   `json:"phoneNumbers,omitempty"`
	Roles        []roleOut      `json:"roles,omitempty"`
	Schemas      []string       `json:"schemas"`
	Timezone     string         `json:"timezone,omitempty"`
	Enterprise   *enterpriseOut `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
	UserName     string         `json:"userName"`
}

// etag is a user's version as a weak entity tag (RFC 7644 §3.14).
func etag(u *iamd.User) string { return versionTag(u.Version) }

// versionTag is a resource version as a weak entity tag.
func versionTag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

func toSCIM(ctx context.Context, u *iamd.User) userOut {
	location := baseURL(ctx) + "/Users/" + u.ID
	out := userOut{Schemas: []string{SchemaUser}, ID: u.ID, ExternalID: u.ExternalID, UserName: u.LoginName,
		DisplayName: u.DisplayName, Locale: u.Locale, Timezone: u.TimeZone, Active: u.Status == iamd.UserActive,
		Meta: metaOut{ResourceType: "User", Created: u.CreatedAt.UTC().Format(time.RFC3339), LastModified: u.UpdatedAt.UTC().Format(time.RFC3339),
			Location: location, Version: etag(u)}}
	if u.GivenName != "" || u.FamilyName != "" {
		out.Name = &nameOut{GivenName: u.GivenName, FamilyName: u.FamilyName}
	}
	if u.Email != "" {
		out.Emails = []multiValue{{Value: u.Email, Type: valueType, Primary: true}}
	}
	if u.PhoneNumber != "" {
		out.PhoneNumbers = []multiValue{{Value: strings.TrimSpace(u.PhoneCountryCode + " " + u.PhoneNumber), Type: valueType, Primary: true}}
	}
	for _, g := range u.Groups {
		out.Groups = append(out.Groups, groupRef{Value: g.ID, Ref: baseURL(ctx) + "/Groups/" + g.ID, Display: g.Name, Type: "direct"})
	}
	for _, g := range u.InheritedGroups {
		out.Groups = append(out.Groups, groupRef{Value: g.ID, Ref: baseURL(ctx) + "/Groups/" + g.ID, Display: g.Name, Type: "indirect"})
	}
	for _, r := range u.Roles {
		out.Roles = append(out.Roles, roleOut{Value: r, Display: r})
	}
	ent := enterpriseOut{EmployeeNumber: u.EmployeeNumber, Department: u.Department, Division: u.BusinessUnit, Organization: u.Organization}
	if u.Manager != "" {
		ent.Manager = &managerOut{Value: u.Manager}
	}
	if ent != (enterpriseOut{}) {
		out.Enterprise = &ent
		out.Schemas = append(out.Schemas, SchemaEnterprise)
	}
	return out
}

func (f *Face) findUser(r *http.Request) (*iamd.User, error) {
	u, err := f.dir.GetUser(r.Context(), iamd.PrincipalFromContext(r.Context()).InstanceID, r.PathValue("id"))
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		return nil, newError(http.StatusNotFound, "", "No user with id "+strconv.Quote(r.PathValue("id"))+".")
	}
	return u, err
}

func (f *Face) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := f.findUser(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	if notModified(w, r, etag(u)) {
		return
	}
	writeUser(w, r, http.StatusOK, u)
}

func (f *Face) getMe(w http.ResponseWriter, r *http.Request) {
	u, err := f.dir.Me(r.Context())
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeUser(w, r, http.StatusOK, u)
}

func (f *Face) deleteUser(w http.ResponseWriter, r *http.Request) {
	version, err := deletionVersion(r, func() (int64, error) {
		u, err := f.userToChange(r)
		if err != nil {
			return 0, err
		}
		return u.Version, nil
	})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	ref := iamd.UserRef{ID: r.PathValue("id"), Version: version}
	err = f.dir.DeleteUser(r.Context(), iamd.PrincipalFromContext(r.Context()).InstanceID, ref)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		err = newError(http.StatusNotFound, "", "No user with id "+strconv.Quote(ref.ID)+".")
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// flexBool is a boolean that provisioners sometimes send as a string ("true", "False").
type flexBool struct{ set, value bool }

func (b *flexBool) UnmarshalJSON(raw []byte) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		*b = flexBool{true, v}
	case string:
		parsed, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			return fmt.Errorf("%q is not a boolean", v)
		}
		*b = flexBool{true, parsed}
	case nil:
		*b = flexBool{}
	default:
		return fmt.Errorf("not a boolean")
	}
	return nil
}

type multiValueIn struct {
	Value   string   `json:"value"`
	Type    string   `json:"type"`
	Primary flexBool `json:"primary"`
}

type userIn struct {
	Schemas    []string `json:"schemas"`
	ExternalID string   `json:"externalId"`
	UserName   string   `json:"userName"`
	Name       *struct {
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
	} `json:"name"`
	DisplayName  string          `json:"displayName"`
	Emails       []multiValueIn  `json:"emails"`
	PhoneNumbers []multiValueIn  `json:"phoneNumbers"`
	Locale       string          `json:"locale"`
	Timezone     string          `json:"timezone"`
	Active       flexBool        `json:"active"`
	Password     string          `json:"password"`
	Roles        json.RawMessage `json:"roles"`
	Enterprise   *struct {
		EmployeeNumber string          `json:"employeeNumber"`
		Department     string          `json:"department"`
		Division       string          `json:"division"`
		Organization   string          `json:"organization"`
		Manager        json.RawMessage `json:"manager"` // {"value": …}, or Entra's plain string
	} `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
}

// pick returns the primary value, else the work one, else the first.
func pick(values []multiValueIn) string {
	for _, v := range values {
		if v.Primary.value {
			return v.Value
		}
	}
	for _, v := range values {
		if strings.EqualFold(v.Type, valueType) {
			return v.Value
		}
	}
	if len(values) > 0 {
		return values[0].Value
	}
	return ""
}

// userFromDoc reads a User document as the canonical user's fields (in) and the
// attributes kept beside them (extra). Attributes SCIM does not define are ignored, as
// RFC 7644 §3.3 allows; a known attribute of the wrong type is invalidValue, naming it.
func userFromDoc(doc map[string]any) (in *userIn, extra string, err error) {
	if err := tidy(doc); err != nil {
		return nil, "", err
	}
	raw, _ := json.Marshal(doc)
	in = new(userIn)
	if err := json.Unmarshal(raw, in); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			field, want := wire.TypeError(typeErr, in)
			return nil, "", newError(http.StatusBadRequest, TypeInvalidValue, "The attribute "+field+" must be "+want+".")
		}
		return nil, "", newError(http.StatusBadRequest, TypeInvalidValue, err.Error())
	}
	if !listsSchema(in.Schemas, SchemaUser) {
		return nil, "", newError(http.StatusBadRequest, TypeInvalidValue, "schemas must list "+SchemaUser+".")
	}
	if in.UserName == "" {
		return nil, "", newError(http.StatusBadRequest, TypeInvalidValue, "userName is required.")
	}
	if extra, err = keptFrom(doc); err != nil {
		return nil, "", err
	}
	return in, extra, nil
}

// readUserDoc reads a request's User body.
func readUserDoc(r *http.Request) (*userIn, string, error) {
	raw, err := wire.ReadBody(r)
	if err != nil {
		return nil, "", err
	}
	doc, err := decodeDoc(raw)
	if err != nil {
		return nil, "", err
	}
	return userFromDoc(doc)
}

// canonical maps a decoded User onto the core's user.
func (in *userIn) canonical(instanceID string) (*iamd.User, error) {
	u := &iamd.User{InstanceID: instanceID, LoginName: in.UserName, ExternalID: in.ExternalID, DisplayName: in.DisplayName,
		Email: pick(in.Emails), Locale: in.Locale, TimeZone: in.Timezone, Status: iamd.UserActive}
	if phone := pick(in.PhoneNumbers); phone != "" {
		// An international number ("+1 555 0100", "tel:+1-555-0100") is the canonical
		// calling code and number.
		if code, rest, ok := iamd.SplitCallingCode(phone); ok {
			u.PhoneCountryCode, u.PhoneNumber = code, rest
		} else {
			u.PhoneNumber = strings.TrimPrefix(phone, "tel:")
		}
	}
	if in.Name != nil {
		u.GivenName, u.FamilyName = in.Name.GivenName, in.Name.FamilyName
	}
	if in.Active.set && !in.Active.value {
		u.Status = iamd.UserSuspended
	}
	if len(in.Roles) > 0 && string(in.Roles) != "null" {
		roles, ok := readRoles(in.Roles)
		if !ok {
			return nil, newError(http.StatusBadRequest, TypeInvalidValue, "roles must be a list of {\"value\": role name}.")
		}
		u.Roles = roles
	}
	if e := in.Enterprise; e != nil {
		u.EmployeeNumber, u.Department, u.BusinessUnit, u.Organization = e.EmployeeNumber, e.Department, e.Division, e.Organization
		id, ok := managerID(e.Manager)
		if !ok {
			return nil, newError(http.StatusBadRequest, TypeInvalidValue, "manager must be {\"value\": id} or an id.")
		}
		u.Manager = id
	}
	return u, nil
}

func (f *Face) createUser(w http.ResponseWriter, r *http.Request) {
	inst := iamd.PrincipalFromContext(r.Context()).InstanceID
	created, err := f.dir.CreateUserFrom(r.Context(), inst, func() (*iamd.User, iamd.CreateUserOptions, error) {
		in, extra, err := readUserDoc(r)
		if err != nil {
			return nil, iamd.CreateUserOptions{}, err
		}
		u, err := in.canonical(inst)
		if err != nil {
			return nil, iamd.CreateUserOptions{}, err
		}
		u.Extra = extra
		return u, iamd.CreateUserOptions{Password: in.Password}, nil
	})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	w.Header().Set("Location", toSCIM(r.Context(), created).Meta.Location)
	writeUser(w, r, http.StatusCreated, created)
}

// userToChange finds the user of the path and holds it to If-Match.
func (f *Face) userToChange(r *http.Request) (*iamd.User, error) {
	u, err := f.findUser(r)
	if err == nil && preconditionFailsVersion(r, etag(u)) {
		err = errPrecondition()
	}
	return u, err
}

// ifMatchVersion is the version an If-Match header names, when it names exactly one:
// the core then holds the change to it. 0 for none, "*", or several (which the edit
// holds the user to, see changeUser).
func ifMatchVersion(r *http.Request) int64 {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	tag := strings.TrimPrefix(h, "W/")
	if h == "" || strings.Contains(h, ",") || len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	if err != nil || v <= 0 {
		return -1 // a version no user has: the change is refused as stale
	}
	return v
}

// deletionVersion is the version a DELETE is held to: the one If-Match names, or — when
// it names several — the resource's own, read by current and held to them (reading it
// needs the read privilege, which shows the version anyway).
func deletionVersion(r *http.Request, current func() (int64, error)) (int64, error) {
	v := ifMatchVersion(r)
	if h := r.Header.Get("If-Match"); v != 0 || h == "" || h == "*" {
		return v, nil
	}
	return current()
}

// changeUser makes the change edit asks of the path's user in one call to the core,
// held to If-Match, and answers the user as it then is (RFC 7644 §3.5.1, §3.5.2).
func (f *Face) changeUser(w http.ResponseWriter, r *http.Request, edit iamd.UserEdit) {
	id := r.PathValue("id")
	ref := iamd.UserRef{ID: id, Version: ifMatchVersion(r)}
	u, err := f.dir.ChangeUser(r.Context(), iamd.PrincipalFromContext(r.Context()).InstanceID, ref, func(cur *iamd.User) (*iamd.UserChange, error) {
		if preconditionFailsVersion(r, etag(cur)) {
			return nil, errPrecondition()
		}
		return edit(cur)
	})
	if iamd.ErrorCode(err) == iamd.ENOTFOUND && iamd.ErrorField(err) == "" {
		err = newError(http.StatusNotFound, "", "No user with id "+strconv.Quote(id)+".")
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeUser(w, r, http.StatusOK, u)
}

// notModified answers 304 when If-None-Match names the version tag (RFC 7644 §3.14).
func notModified(w http.ResponseWriter, r *http.Request, tag string) bool {
	if !namesVersion(r.Header.Get("If-None-Match"), tag) {
		return false
	}
	w.Header().Set("ETag", tag)
	w.WriteHeader(http.StatusNotModified)
	return true
}

// preconditionFailsVersion tells whether an If-Match header names another version than
// tag (RFC 7644 §3.14, RFC 9110 §13.1.1).
func preconditionFailsVersion(r *http.Request, tag string) bool {
	h := r.Header.Get("If-Match")
	return h != "" && !namesVersion(h, tag)
}

// namesVersion tells whether an If-Match or If-None-Match header value names tag, or
// is "*"; versions compare weakly (RFC 9110 §8.8.3.2).
func namesVersion(header, tag string) bool {
	current := strings.TrimPrefix(tag, "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == current {
			return true
		}
	}
	return false
}

func errPrecondition() error {
	return newError(http.StatusPreconditionFailed, "", "The resource has changed since the version in If-Match.")
}

// writeUser answers a user with its ETag.
func writeUser(w http.ResponseWriter, r *http.Request, status int, u *iamd.User) {
	w.Header().Set("ETag", etag(u))
	q := r.URL.Query()
	writeJSON(w, status, userResource(r.Context(), u, splitList(q.Get("attributes")), splitList(q.Get("excludedAttributes"))))
}

// writeResource answers one resource, applying the request's attributes and
// excludedAttributes, which RFC 7644 §3.9 allows on every operation that returns one.
func writeResource(w http.ResponseWriter, r *http.Request, status int, resource any) {
	q := r.URL.Query()
	attributes, excluded := splitList(q.Get("attributes")), splitList(q.Get("excludedAttributes"))
	if len(attributes) == 0 && len(excluded) == 0 {
		writeJSON(w, status, resource)
		return
	}
	writeJSON(w, status, project(resource, attributes, excluded))
}

// patchUser applies a PatchOp (RFC 7644 §3.5.2) to the user as a document, then makes
// of the document the change a PUT would. id, userName, groups and meta are the server's:
// a change to them is mutability; sending them back unchanged is not. The operations are
// applied to the user as the core reads it, and again if another writer got there
// first, so concurrent PATCHes of different attributes all take effect. Entra expects
// 200 or 204; the user is answered (200).
func (f *Face) patchUser(w http.ResponseWriter, r *http.Request) {
	raw, err := wire.ReadBody(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.changeUser(w, r, func(cur *iamd.User) (*iamd.UserChange, error) {
		ops, err := patchOps(raw)
		if err != nil {
			return nil, err
		}
		doc, before := userDoc(r.Context(), cur), userDoc(r.Context(), cur)
		if err := applyPatch(doc, ops); err != nil {
			return nil, err
		}
		for _, attr := range []string{"id", "groups", "meta"} {
			if !reflect.DeepEqual(doc[key(doc, attr)], before[attr]) {
				return nil, newError(http.StatusBadRequest, TypeMutability, "The attribute "+attr+" is the server's; it cannot be changed.")
			}
		}
		in, extra, err := userFromDoc(doc)
		if err != nil {
			return nil, err
		}
		if in.Roles == nil { // the document names the user's roles: none left is none
			in.Roles = json.RawMessage(`[]`)
		}
		return in.change(cur, extra)
	})
}

// replaceUser is PUT: the body replaces every writable attribute; those it leaves out
// are cleared, except the password and roles, which it keeps unless it names them.
// A userName other than the user's renames it; readOnly attributes are ignored.
func (f *Face) replaceUser(w http.ResponseWriter, r *http.Request) {
	raw, err := wire.ReadBody(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	f.changeUser(w, r, func(cur *iamd.User) (*iamd.UserChange, error) {
		doc, err := decodeDoc(raw)
		if err != nil {
			return nil, err
		}
		in, extra, err := userFromDoc(doc)
		if err != nil {
			return nil, err
		}
		return in.change(cur, extra)
	})
}

// change is the change that makes cur the User document in (with extra, the attributes
// kept beside the canonical ones). A userName spelled otherwise than cur's renames the
// user (Entra ID and Okta rename this way, RFC 7643 has userName readWrite); the core
// holds the new name to the same uniqueness as a new user's. A PUT leaves roles it does not name as they are, so that a provisioner that knows
// nothing of iamd's roles takes none away; the password is write-only and kept unless
// sent.
func (in *userIn) change(cur *iamd.User, extra string) (*iamd.UserChange, error) {
	next, err := in.canonical("")
	if err != nil {
		return nil, err
	}
	status := next.Status
	change := &iamd.UserChange{UserUpdate: iamd.UserUpdate{DisplayName: &next.DisplayName, GivenName: &next.GivenName,
		FamilyName: &next.FamilyName, Email: &next.Email, PhoneCountryCode: &next.PhoneCountryCode, PhoneNumber: &next.PhoneNumber,
		ExternalID: &next.ExternalID, Locale: &next.Locale, TimeZone: &next.TimeZone, EmployeeNumber: &next.EmployeeNumber,
		Department: &next.Department, BusinessUnit: &next.BusinessUnit, Organization: &next.Organization, Manager: &next.Manager,
		Status: &status, Extra: &extra}}
	if in.UserName != cur.LoginName {
		change.LoginName = &in.UserName
	}
	if next.Roles != nil || string(in.Roles) == "null" {
		roles := next.Roles
		if roles == nil {
			roles = []string{}
		}
		change.Roles = &roles
	}
	if in.Password != "" {
		change.Password = &iamd.NewPassword{Clear: in.Password}
	}
	return change, nil
}
