package ncloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"iamd"
	"iamd/face/wire"
	"iamd/server"
)

// Limits of the SSO API (faces.md §2). The API documents description and profile fields
// in bytes (UTF-8: a Korean syllable is 3) and loginId in characters.
const (
	minLoginID          = 3
	maxLoginID          = 60
	maxDescriptionBytes = 300
	maxProfileBytes     = 200
	maxCountryCodeBytes = 10
	defaultPageSize     = 20
	maxPageSize         = 100
	timeLayout          = "2006-01-02T15:04:05Z"
)

type profile struct {
	FirstName        string `json:"firstName"`
	LastName         string `json:"lastName"`
	Email            string `json:"email"`
	EmailVerified    bool   `json:"emailVerified"`
	EmpNo            string `json:"empNo"`
	PhoneCountryCode string `json:"phoneCountryCode"`
	PhoneNo          string `json:"phoneNo"`
	PhoneNoVerified  bool   `json:"phoneNoVerified"`
	DeptName         string `json:"deptName"`
}

type accessRules struct {
	ConsoleAccessAllowed bool `json:"consoleAccessAllowed"`
	APIAccessAllowed     bool `json:"apiAccessAllowed"`
}

type userOut struct {
	UserID      string      `json:"userId"`
	LoginID     string      `json:"loginId"`
	NRN         string      `json:"nrn"`
	UserProfile profile     `json:"userProfile"`
	AccessRules accessRules `json:"accessRules"`
	Status      string      `json:"status"`
	Description string      `json:"description"`
	LastLoginAt *string     `json:"lastLoginAt"`
	CreatedAt   string      `json:"createdAt"`
	UpdatedAt   string      `json:"updatedAt"`
}

// wireID is a user id in UUID form, as NAVER Cloud shows ids.
func wireID(id string) string { return iamd.UUIDForm(id) }

// coreID reads a user id in UUID form (or the core's 32 hex digits); what is neither is
// kept, to be found by no one.
func coreID(wire string) string {
	id, _ := iamd.ParseID(wire)
	return id
}

// nrn is the user's NAVER Cloud resource name; the instance is the account.
func nrn(u *iamd.User) string { return userNRN(u.InstanceID, u.ID) }

// userNRN is the resource name of the user of an instance with the core's id.
func userNRN(instanceID, id string) string {
	return "nrn:PUB:SSO::" + instanceID + ":User/" + wireID(id)
}

func stamp(t time.Time) string { return t.UTC().Format(timeLayout) }

func toWire(u *iamd.User) userOut {
	out := userOut{UserID: wireID(u.ID), LoginID: u.LoginName, NRN: nrn(u), Status: string(u.Status), Description: u.Description,
		UserProfile: profile{FirstName: u.GivenName, LastName: u.FamilyName, Email: u.Email, EmailVerified: u.EmailVerified,
			EmpNo: u.EmployeeNumber, PhoneCountryCode: u.PhoneCountryCode, PhoneNo: u.PhoneNumber, PhoneNoVerified: u.PhoneVerified,
			DeptName: u.Department},
		AccessRules: accessRules{ConsoleAccessAllowed: !u.ConsoleDenied, APIAccessAllowed: !u.APIDenied},
		CreatedAt:   stamp(u.CreatedAt), UpdatedAt: stamp(u.UpdatedAt)}
	if u.LastLoginAt != nil {
		s := stamp(*u.LastLoginAt)
		out.LastLoginAt = &s
	}
	return out
}

// maxBytes refuses a value longer than max bytes of UTF-8.
func maxBytes(field, value string, max int) error {
	if n := len(value); n > max {
		return invalid(field, fmt.Sprintf("at most %d bytes (UTF-8), got %d.", max, n))
	}
	return nil
}

var profileFields = []string{"firstName", "lastName", "email", "empNo", "phoneCountryCode", "phoneNo", "deptName"}

// readProfile reads and checks a userProfile object onto u.
func readProfile(raw json.RawMessage, u *iamd.User) error {
	obj, err := decodeObject("userProfile", raw, profileFields)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"firstName", &u.GivenName}, {"lastName", &u.FamilyName}, {"email", &u.Email}, {"empNo", &u.EmployeeNumber},
		{"phoneCountryCode", &u.PhoneCountryCode}, {"phoneNo", &u.PhoneNumber}, {"deptName", &u.Department}} {
		v, err := obj.String(f.name)
		if err != nil {
			return invalid("userProfile."+f.name, "must be a string.")
		}
		limit := maxProfileBytes
		if f.name == "phoneCountryCode" {
			limit = maxCountryCodeBytes
		}
		if err := maxBytes("userProfile."+f.name, v.Value, limit); err != nil {
			return err
		}
		*f.dst = v.Value
	}
	if u.Email != "" {
		if err := iamd.CheckEmail(iamd.FieldEmail, u.Email); err != nil {
			return invalid("userProfile.email", "must be an email address.")
		}
	}
	// The core holds phoneCountryCode to the calling codes in use, as for every face;
	// NAVER's clients send it without its "+".
	u.PhoneCountryCode = iamd.CallingCode(u.PhoneCountryCode)
	if u.PhoneNumber != "" {
		if u.PhoneCountryCode == "" {
			u.PhoneCountryCode = "+82" // NAVER Cloud's home country when none is given
		}
		// NAVER takes only mobile numbers (of Korea's plan, for +82).
		return iamd.CheckMobileNumber(iamd.FieldPhoneNumber, u.PhoneCountryCode, u.PhoneNumber)
	}
	return nil
}

var accessRuleFields = []string{"consoleAccessAllowed", "apiAccessAllowed"}

// readAccessRules reads access rules onto u: the object at path of a body ("accessRules"
// on create and PUT), or the body itself (path ""). The object and both of its booleans
// are required, wherever NAVER documents them: absent or null is refused, never read as
// false (which would lock the user out).
func readAccessRules(path string, raw json.RawMessage, u *iamd.User) error {
	if path != "" && (len(raw) == 0 || string(raw) == "null") {
		return invalid(path, "is required: an object of consoleAccessAllowed and apiAccessAllowed.")
	}
	obj, err := decodeObject(path, raw, accessRuleFields)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name   string
		denied *bool
	}{{"consoleAccessAllowed", &u.ConsoleDenied}, {"apiAccessAllowed", &u.APIDenied}} {
		raw, ok := obj[f.name]
		var allowed *bool
		switch {
		case !ok:
			return invalid(join(path, f.name), "is required: true or false.")
		case json.Unmarshal(raw, &allowed) != nil:
			return invalid(join(path, f.name), "must be true or false.")
		case allowed == nil:
			return invalid(join(path, f.name), "must be true or false, not null.")
		}
		*f.denied = !*allowed
	}
	return nil
}

func checkDescription(s string) error { return maxBytes("description", s, maxDescriptionBytes) }

func checkLoginID(s string) error {
	if n := utf8.RuneCountInString(s); n < minLoginID || n > maxLoginID {
		return invalid("loginId", fmt.Sprintf("%d to %d characters, got %d.", minLoginID, maxLoginID, n))
	}
	if iamd.CheckEmail(iamd.FieldLoginName, s) != nil {
		return invalid("loginId", "must be an email address.")
	}
	return nil
}

func instanceOf(r *http.Request) string { return iamd.PrincipalFromContext(r.Context()).InstanceID }

var createFields = []string{"loginId", "description", "userProfile", "accessRules"}

// decodeCreate reads a create body onto a new user of the instance.
func decodeCreate(obj wire.Object, instanceID string) (*iamd.User, error) {
	u := &iamd.User{InstanceID: instanceID, Status: iamd.UserActive}
	var err error
	if u.LoginName, err = obj.Required("loginId"); err != nil {
		return nil, err
	}
	desc, err := obj.String("description")
	for _, check := range []func() error{
		func() error { return err },
		func() error { return checkLoginID(u.LoginName) },
		func() error { u.Description = desc.Value; return checkDescription(desc.Value) },
		func() error {
			if raw, ok := obj["userProfile"]; ok && string(raw) != "null" {
				return readProfile(raw, u)
			}
			return nil
		},
		func() error { return readAccessRules("accessRules", obj["accessRules"], u) },
	} {
		if err := check(); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (f *Face) createUser(w http.ResponseWriter, r *http.Request) {
	created, err := f.dir.CreateUserFrom(r.Context(), instanceOf(r), func() (*iamd.User, iamd.CreateUserOptions, error) {
		obj, err := readObject(r, createFields)
		if err != nil {
			return nil, iamd.CreateUserOptions{}, err
		}
		u, err := decodeCreate(obj, instanceOf(r))
		return u, iamd.CreateUserOptions{}, err
	})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWire(created)) // 200, which the community SDK reads
}

// bulkResult is one user of a bulk create.
type bulkResult struct {
	ID      string `json:"id,omitempty"`
	NRN     string `json:"nrn,omitempty"`
	Name    string `json:"name"` // the loginId asked for
	Success bool   `json:"success"`
	Message string `json:"message,omitempty"`
}

// bulkCreate creates each user of {"params": [create bodies]} (at most maxBatch); one
// that is refused fails alone, with its reason.
func (f *Face) bulkCreate(w http.ResponseWriter, r *http.Request) {
	obj, err := readObject(r, []string{"params"})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	var params []json.RawMessage
	if raw, ok := obj["params"]; !ok || json.Unmarshal(raw, &params) != nil || len(params) == 0 || len(params) > maxBatch {
		f.WriteError(w, r, invalid("params", fmt.Sprintf("a list of 1 to %d users to create.", maxBatch)))
		return
	}
	out := make([]bulkResult, 0, len(params))
	for i, raw := range params {
		res := bulkResult{}
		u, name, err := f.createItem(r, fmt.Sprintf("params[%d]", i), raw)
		res.Name = name
		if err == nil {
			res.ID, res.NRN, res.Success = wireID(u.ID), nrn(u), true
		} else if msg, whole := f.itemFailure(r, err); whole {
			f.WriteError(w, r, err)
			return
		} else if inFaceTerms(err) == nil { // refused on the user's rights, or internal
			res.Message = fmt.Sprintf("params[%d]: %s", i, msg)
		} else {
			res.Message = msg // names the field by its path
		}
		out = append(out, res)
	}
	writeJSON(w, http.StatusOK, out)
}

// createItem creates the user of one item of a bulk create, at path in the body; what
// it refuses names the field by its whole path ("params[1].loginId").
func (f *Face) createItem(r *http.Request, path string, raw json.RawMessage) (u *iamd.User, loginID string, err error) {
	u, err = f.dir.CreateUserFrom(r.Context(), instanceOf(r), func() (*iamd.User, iamd.CreateUserOptions, error) {
		item, err := decodeObject(path, raw, createFields)
		if err != nil {
			return nil, iamd.CreateUserOptions{}, err
		}
		login, _ := item.String("loginId")
		loginID = login.Value
		u, err := decodeCreate(item, instanceOf(r))
		return u, iamd.CreateUserOptions{}, err
	})
	if fe := inFaceTerms(err); fe != nil {
		err = fe.at(path)
	}
	return u, loginID, err
}

func (f *Face) findUser(r *http.Request, wireUserID string) (*iamd.User, error) {
	u, err := f.dir.GetUser(r.Context(), instanceOf(r), coreID(wireUserID))
	if iamd.ErrorCode(err) == iamd.ENOTFOUND || iamd.ErrorCode(err) == iamd.EINVALID {
		return nil, userNotFound(wireUserID)
	}
	return u, err
}

func (f *Face) getUser(w http.ResponseWriter, r *http.Request) {
	u, err := f.findUser(r, r.PathValue("userId"))
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWire(u))
}

// result is the answer of a change to one user.
type result struct {
	ID      string `json:"id"`
	NRN     string `json:"nrn"`
	Success bool   `json:"success"`
	Message string `json:"message,omitempty"`
}

// updateUser is PUT: accessRules are required; description and userProfile, when given,
// replace what they hold (a profile field left out is cleared). loginId cannot change.
func (f *Face) updateUser(w http.ResponseWriter, r *http.Request) {
	obj, err := readObject(r, []string{"loginId", "description", "userProfile", "accessRules"})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	u, err := f.changeUser(r, r.PathValue("userId"), func(cur *iamd.User) (*iamd.UserChange, error) {
		next := *cur
		if login, err := obj.String("loginId"); err != nil || (login.Set && !strings.EqualFold(login.Value, cur.LoginName)) {
			return nil, invalid("loginId", "cannot be changed.")
		}
		desc, err := obj.String("description")
		for _, check := range []func() error{
			func() error { return err },
			func() error {
				if desc.Set {
					next.Description = desc.Value
				}
				return checkDescription(next.Description)
			},
			func() error {
				raw, ok := obj["userProfile"]
				if !ok || string(raw) == "null" {
					return nil
				}
				next.GivenName, next.FamilyName, next.Email, next.EmployeeNumber = "", "", "", ""
				next.PhoneCountryCode, next.PhoneNumber, next.Department = "", "", ""
				return readProfile(raw, &next)
			},
			func() error { return readAccessRules("accessRules", obj["accessRules"], &next) },
		} {
			if err := check(); err != nil {
				return nil, err
			}
		}
		return &iamd.UserChange{UserUpdate: iamd.UserUpdate{Description: &next.Description, GivenName: &next.GivenName,
			FamilyName: &next.FamilyName, Email: &next.Email, EmployeeNumber: &next.EmployeeNumber,
			PhoneCountryCode: &next.PhoneCountryCode, PhoneNumber: &next.PhoneNumber, Department: &next.Department,
			ConsoleDenied: &next.ConsoleDenied, APIDenied: &next.APIDenied}}, nil
	})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, result{ID: wireID(u.ID), NRN: nrn(u), Success: true})
}

// changeUser makes the change edit asks of the user a wire id names, in one call to the core.
func (f *Face) changeUser(r *http.Request, wireUserID string, edit iamd.UserEdit) (*iamd.User, error) {
	u, err := f.dir.ChangeUser(r.Context(), instanceOf(r), iamd.UserRef{ID: coreID(wireUserID)}, edit)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND && iamd.ErrorField(err) == "" {
		return nil, userNotFound(wireUserID)
	}
	return u, err
}

func userNotFound(wireUserID string) error {
	return &faceError{status: http.StatusNotFound, detail: "No user with userId " + strconv.Quote(wireUserID) + "."}
}

func (f *Face) deleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("userId")
	err := f.dir.DeleteUser(r.Context(), instanceOf(r), iamd.UserRef{ID: coreID(id)})
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		err = userNotFound(id)
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, result{ID: wireID(coreID(id)), NRN: userNRN(instanceOf(r), coreID(id)), Success: true})
}

// maxBatch bounds one batch call, as the core bounds a membership change.
const maxBatch = 100

// batch runs one change per user of {"userIds": […]} and answers each result: a user
// that cannot be changed fails alone, with its reason.
func (f *Face) batch(one func(r *http.Request, wireUserID string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ids, err := readIDs(r, "userIds", "users")
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		out := make([]result, 0, len(ids))
		for _, id := range ids {
			res := result{ID: wireID(coreID(id)), NRN: userNRN(instanceOf(r), coreID(id))}
			err := one(r, id)
			if err == nil {
				res.Success = true
			} else if msg, whole := f.itemFailure(r, err); whole {
				f.WriteError(w, r, err)
				return
			} else {
				res.Message = msg
			}
			out = append(out, res)
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// readIDs reads a batch body {field: [ids]}: 1 to maxBatch of them.
func readIDs(r *http.Request, field, what string) ([]string, error) {
	obj, err := readObject(r, []string{field})
	if err != nil {
		return nil, err
	}
	ids, err := obj.Strings(field)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 || len(ids) > maxBatch {
		return nil, invalid(field, fmt.Sprintf("name 1 to %d %s.", maxBatch, what))
	}
	return ids, nil
}

// itemFailure is how a batch answers an item that failed: a refusal of the caller
// itself (authentication, a privilege it lacks) refuses the whole call; anything else —
// bad input, a user it may not act on — fails the item alone with its message,
// internal errors logged and kept generic.
func (f *Face) itemFailure(r *http.Request, err error) (message string, refusesCall bool) {
	if fe := inFaceTerms(err); fe != nil {
		return fe.message(), false
	}
	switch {
	case iamd.RefusesCaller(err):
		return "", true
	case iamd.ErrorCode(err) == iamd.EINTERNAL:
		server.LogInternalError(f.log, r, err)
		return "Internal error.", false
	}
	return iamd.ErrorMessageIn(err, wireFields), false
}

func (f *Face) deleteOne(r *http.Request, wireUserID string) error {
	err := f.dir.DeleteUser(r.Context(), instanceOf(r), iamd.UserRef{ID: coreID(wireUserID)})
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		return userNotFound(wireUserID)
	}
	return err
}

func (f *Face) setStatus(status iamd.UserStatus) func(r *http.Request, wireUserID string) error {
	return func(r *http.Request, wireUserID string) error {
		_, err := f.changeUser(r, wireUserID, func(*iamd.User) (*iamd.UserChange, error) {
			return &iamd.UserChange{UserUpdate: iamd.UserUpdate{Status: &status}}, nil
		})
		return err
	}
}

// checkLoginID answers whether a loginId is free in the caller's instance.
func (f *Face) checkLoginID(w http.ResponseWriter, r *http.Request) {
	login := r.URL.Query().Get("loginId")
	if err := checkLoginID(login); err != nil {
		f.WriteError(w, r, err)
		return
	}
	page, err := f.dir.ListUsers(r.Context(), iamd.UserFilter{InstanceID: instanceOf(r), LoginName: login, Limit: 1})
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"loginId": login, "available": page.Total == 0})
}

// pageOut is NAVER Cloud's page envelope (page from 0).
type pageOut[T any] struct {
	Page        int  `json:"page"`
	TotalPages  int  `json:"totalPages"`
	TotalItems  int  `json:"totalItems"`
	IsFirst     bool `json:"isFirst"`
	IsLast      bool `json:"isLast"`
	HasPrevious bool `json:"hasPrevious"`
	HasNext     bool `json:"hasNext"`
	Items       []T  `json:"items"`
}

// newPage wraps one page of items, of total in all, in the envelope.
func newPage[T any](items []T, total, page, size int) pageOut[T] {
	if items == nil {
		items = []T{}
	}
	out := pageOut[T]{Page: page, TotalItems: total, TotalPages: (total + size - 1) / size, Items: items}
	out.IsFirst, out.HasPrevious = page == 0, page > 0
	out.IsLast = page >= out.TotalPages-1
	out.HasNext = !out.IsLast
	return out
}

// pages are the API's paging parameters: page from 0, size from 1 to maxPageSize.
var pages = wire.Paging{DefaultSize: defaultPageSize, MaxSize: maxPageSize}

// pageParams reads the 0-based page and the size, and the offset they start at.
func pageParams(r *http.Request) (offset, page, size int, err error) {
	q := r.URL.Query()
	offset, page, size, err = pages.Read(q.Get("page"), q.Get("size"))
	var pe *wire.PageError
	if errors.As(err, &pe) && pe.Param == "size" {
		return 0, 0, 0, invalid("size", fmt.Sprintf("a number from 1 to %d.", maxPageSize))
	} else if err != nil {
		return 0, 0, 0, invalid("page", "a number from 0, small enough that page × size stays under 2³¹.")
	}
	return offset, page, size, nil
}

// userPage is a page of users in the envelope.
func userPage(res *iamd.UserPage, page, size int) pageOut[userOut] {
	items := make([]userOut, 0, len(res.Users))
	for i := range res.Users {
		items = append(items, toWire(&res.Users[i]))
	}
	return newPage(items, res.Total, page, size)
}

// listUsers pages the caller's users (page from 0), optionally by one searchColumn:
// loginId (contains, ignoring case), status, nrn or userId (exact).
func (f *Face) listUsers(w http.ResponseWriter, r *http.Request) {
	offset, page, size, err := pageParams(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	filter := iamd.UserFilter{InstanceID: instanceOf(r), Offset: offset, Limit: size,
		Sort: []iamd.UserSort{{Key: iamd.SortByCreatedAt}}}
	column, word := q.Get("searchColumn"), q.Get("searchWord")
	if column != "" && word == "" {
		f.WriteError(w, r, invalid("searchWord", "is required with searchColumn."))
		return
	}
	switch column {
	case "":
	case "loginId":
		filter.Where = iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchCo, Value: word}
	case "status":
		if word != string(iamd.UserActive) && word != string(iamd.UserSuspended) {
			f.WriteError(w, r, invalid("searchWord", "a status: active or suspended."))
			return
		}
		filter.Status = iamd.UserStatus(word)
	case "nrn", "userId":
		id := word
		if column == "nrn" {
			// Another account's nrn, or no nrn at all, leaves an id no user has.
			id, _ = strings.CutPrefix(word, "nrn:PUB:SSO::"+filter.InstanceID+":User/")
		}
		filter.Where = iamd.Match{Field: iamd.FieldID, Op: iamd.MatchEq, Value: coreID(id), CaseExact: true}
	default:
		f.WriteError(w, r, invalid("searchColumn", "one of loginId, status, nrn, userId."))
		return
	}
	res, err := f.dir.ListUsers(r.Context(), filter)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userPage(res, page, size))
}
