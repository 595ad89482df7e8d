package scp

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"iamd"
	"iamd/face/wire"
)

// userResponse is SCP's UserResponse: exactly the documented fields, since generated SCP
// clients decode strictly.
type userResponse struct {
	BusinessUnit         *string     `json:"business_unit"`
	CreatedAt            string      `json:"created_at"`
	CreatedBy            string      `json:"created_by"`
	CreatorName          string      `json:"creator_name"`
	Department           *string     `json:"department"`
	Description          *string     `json:"description"`
	Email                *string     `json:"email"`
	EmailAuthenticated   bool        `json:"email_authenticated"`
	EmployeeID           *string     `json:"employee_id"`
	Groups               []groupItem `json:"groups"`
	ID                   string      `json:"id"`
	InstanceID           string      `json:"instance_id"`
	LastLoginAt          *string     `json:"last_login_at"`
	LastPasswordUpdateAt *string     `json:"last_password_update_at"`
	Manager              *string     `json:"manager"`
	ModifiedAt           string      `json:"modified_at"`
	ModifiedBy           string      `json:"modified_by"`
	ModifierName         string      `json:"modifier_name"`
	Name                 string      `json:"name"`
	NationID             *string     `json:"nation_id"`
	Password             string      `json:"password"`
	PasswordFailedCount  int         `json:"password_failed_count"`
	PasswordReuseCount   int         `json:"password_reuse_count"`
	PhoneAuthenticated   bool        `json:"phone_authenticated"`
	PhoneNumber          *string     `json:"phone_number"`
	TemporaryPassword    string      `json:"temporary_password"`
	TzID                 *string     `json:"tz_id"`
	UserID               string      `json:"user_id"`
}

type groupItem struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// timestamp renders times as RFC 3339 UTC, the one format this face uses.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timestamp(*t)
	return &s
}

// optional shows an unset field as null.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toUserResponse(u *iamd.User) userResponse {
	groups := make([]groupItem, 0, len(u.Groups))
	for _, g := range u.Groups {
		groups = append(groups, groupItem{ID: g.ID, Name: g.Name})
	}
	return userResponse{
		BusinessUnit: optional(u.BusinessUnit), CreatedAt: timestamp(u.CreatedAt), CreatedBy: u.CreatedBy,
		CreatorName: u.CreatedByName, Department: optional(u.Department), Description: optional(u.Description),
		Email: optional(u.Email), EmailAuthenticated: u.EmailVerified, EmployeeID: optional(u.EmployeeNumber),
		Groups: groups, ID: u.ID, InstanceID: u.InstanceID, LastLoginAt: optTime(u.LastLoginAt),
		LastPasswordUpdateAt: optTime(u.PasswordChangedAt), Manager: optional(u.Manager),
		ModifiedAt: timestamp(u.UpdatedAt), ModifiedBy: u.UpdatedBy, ModifierName: u.UpdatedByName,
		Name: u.DisplayName, NationID: optional(u.PhoneCountryCode), Password: "",
		PasswordFailedCount: u.PasswordFailedCount, PasswordReuseCount: u.PasswordHistoryCount, PhoneAuthenticated: u.PhoneVerified,
		PhoneNumber: optional(u.PhoneNumber), TemporaryPassword: strconv.FormatBool(u.TemporaryPassword),
		TzID: optional(u.TimeZone), UserID: u.LoginName,
	}
}

type userEnvelope struct {
	User userResponse `json:"user"`
}

func (f *Face) createUser(w http.ResponseWriter, r *http.Request) {
	obj, err := wire.ReadObject(r, createFields)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	req, err := decodeCreate(obj)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	u, err := f.cfg.Users.CreateUser(r.Context(), &req.user, req.opts)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, userEnvelope{toUserResponse(u)})
}

// userUUID reads the {user_uuid} path value: 32 hex digits, or a UUID, in either case.
func userUUID(r *http.Request) (string, error) {
	id, ok := iamd.ParseID(r.PathValue("user_uuid"))
	if !ok {
		return "", invalid("user_uuid", "user_uuid must be 32 hexadecimal characters, like 138c2fc8c29a449dbfa8681f8f1d78e2.")
	}
	return id, nil
}

// instanceParam reads ?instance_id=, defaulting to the caller's own instance.
func instanceParam(r *http.Request) string {
	if id := r.URL.Query().Get("instance_id"); id != "" {
		return id
	}
	if p := iamd.PrincipalFromContext(r.Context()); p != nil {
		return p.InstanceID
	}
	return ""
}

func (f *Face) showUser(w http.ResponseWriter, r *http.Request) {
	id, err := userUUID(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	u, err := f.cfg.Users.GetUser(r.Context(), instanceParam(r), id)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userEnvelope{toUserResponse(u)})
}

func (f *Face) setUser(w http.ResponseWriter, r *http.Request) {
	id, err := userUUID(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	obj, err := wire.ReadObject(r, setFields)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	req, err := decodeSet(obj)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	u, err := f.cfg.Users.UpdateUser(r.Context(), req.instanceID, id, req.update)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userEnvelope{toUserResponse(u)})
}

// sortKeys maps SCP's sort keys to the core's.
var sortKeys = map[string]string{
	"created_at":  iamd.SortByCreatedAt,
	"modified_at": iamd.SortByUpdatedAt,
	"user_id":     iamd.SortByLoginName,
	"name":        iamd.SortByName,
}

const defaultSort = "created_at:desc"

// pages are SCP's page parameters: page from 0, size from 1.
var pages = wire.Paging{DefaultSize: iamd.DefaultPageSize, MaxSize: iamd.MaxPageSize}

// paging reads page (0-based) and size.
func paging(r *http.Request) (offset, page, size int, err error) {
	q := r.URL.Query()
	offset, page, size, err = pages.Read(q.Get("page"), q.Get("size"))
	var pe *wire.PageError
	if errors.As(err, &pe) && pe.Param == "size" {
		return 0, 0, 0, invalid("size", fmt.Sprintf("size must be a whole number from 1 to %d.", iamd.MaxPageSize))
	} else if err != nil {
		return 0, 0, 0, invalid("page", "page must be a whole number from 0, small enough that page × size stays under 2³¹.")
	}
	return offset, page, size, nil
}

type userSummary struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	UserID string `json:"user_id"`
}

type userList struct {
	Count int           `json:"count"`
	Page  int           `json:"page"`
	Size  int           `json:"size"`
	Sort  []string      `json:"sort"`
	Users []userSummary `json:"users"`
}

func (f *Face) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	instanceID := q.Get("instance_id")
	if instanceID == "" {
		f.WriteError(w, r, invalid("instance_id", "instance_id is required."))
		return
	}
	offset, page, size, err := paging(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	sortParam := q["sort"]
	if len(sortParam) == 0 {
		sortParam = []string{defaultSort}
	}
	var sorts []iamd.UserSort
	var shown []string
	for _, param := range sortParam {
		for _, s := range strings.Split(param, ",") {
			key, dir, _ := strings.Cut(strings.TrimSpace(s), ":")
			canonical, ok := sortKeys[key]
			if !ok || (dir != "" && dir != "asc" && dir != "desc") {
				f.WriteError(w, r, invalid("sort", "sort must be KEY or KEY:asc|desc with KEY one of created_at, modified_at, name, user_id."))
				return
			}
			if dir == "" {
				dir = "asc"
			}
			sorts = append(sorts, iamd.UserSort{Key: canonical, Descending: dir == "desc"})
			shown = append(shown, key+":"+dir)
		}
	}
	// excluded_account_id filters by SCP accounts, which iamd does not model; accepted and ignored.
	filter := iamd.UserFilter{InstanceID: instanceID, LoginName: q.Get("user_id"), ExcludedGroupID: q.Get("excluded_group_id"),
		Sort: sorts, Offset: offset, Limit: size}
	res, err := f.cfg.Users.ListUsers(r.Context(), filter)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := userList{Count: res.Total, Page: page, Size: size, Sort: shown, Users: make([]userSummary, 0, len(res.Users))}
	for _, u := range res.Users {
		out.Users = append(out.Users, userSummary{ID: u.ID, Name: u.DisplayName, UserID: u.LoginName})
	}
	writeJSON(w, http.StatusOK, out)
}

// userRemoveResponse is the result of a delete: which ids went, and which did not and why.
type userRemoveResponse struct {
	Success []removeSuccess    `json:"success"`
	Fail    []removeFailCaused `json:"fail"`
}

type removeSuccess struct {
	ID string `json:"id"`
}

type removeFailCaused struct {
	ID     string `json:"id"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func (f *Face) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, err := userUUID(r)
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	if err := f.cfg.Users.DeleteUser(r.Context(), instanceParam(r), iamd.UserRef{ID: id}); err != nil {
		f.WriteError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userRemoveResponse{Success: []removeSuccess{{ID: id}}, Fail: []removeFailCaused{}})
}

// maxBulkDelete bounds one bulk delete.
const maxBulkDelete = 1000

// deleteUsers is the bulk delete (UserDeleteBulkRequest): each id succeeds or fails on
// its own, and the response tells which.
func (f *Face) deleteUsers(w http.ResponseWriter, r *http.Request) {
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
	switch {
	case err != nil:
	case len(ids) == 0:
		err = invalid("user_ids", "user_ids must name at least one user.")
	case len(ids) > maxBulkDelete:
		err = &iamd.Error{Code: iamd.ETOOLARGE, Field: iamd.FieldUserIDs, Message: fmt.Sprintf("At most %d users per request.", maxBulkDelete)}
	}
	if err != nil {
		f.WriteError(w, r, err)
		return
	}
	out := userRemoveResponse{Success: []removeSuccess{}, Fail: []removeFailCaused{}}
	for _, id := range ids {
		err := f.cfg.Users.DeleteUser(r.Context(), instanceID, iamd.UserRef{ID: id})
		switch code := iamd.ErrorCode(err); {
		case code == "":
			out.Success = append(out.Success, removeSuccess{ID: id})
		case code == iamd.EINTERNAL || iamd.RefusesCaller(err):
			f.WriteError(w, r, err) // the caller's own refusal fails the whole request, not one id
			return
		default:
			item := f.errorItem(r, err)
			out.Fail = append(out.Fail, removeFailCaused{ID: id, Status: item.Status, Code: item.Code, Detail: item.Detail})
		}
	}
	writeJSON(w, http.StatusOK, out)
}
