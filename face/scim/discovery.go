package scim

import (
	"net/http"
	"strings"
)

// Schemas of the discovery resources (RFC 7643 §5–7).
const (
	schemaServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	schemaResourceType          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

type supported struct {
	Supported bool `json:"supported"`
}

// serviceProviderConfig says what this server does, and nothing it does not.
func (f *Face) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{schemaServiceProviderConfig},
		"documentationUri": "https://github.com/iamd/iamd#scim",
		"patch":            supported{true},
		"bulk":             map[string]any{"supported": true, "maxOperations": bulkMaxOperations, "maxPayloadSize": f.bulkMaxPayload},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   supported{true},
		"sort":             supported{true},
		"etag":             supported{true},
		"authenticationSchemes": []map[string]any{
			{"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
				"description": "An iamd API token (IAMD_ADMIN_API_TOKEN, or one made with iamd key or the native API) in Authorization: Bearer."},
			{"type": "httpbasic", "name": "HTTP Basic",
				"description": "A user name and password of the server's default instance; costs a password hash per request."},
		},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	})
}

func (f *Face) resourceTypes(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r.Context())
	user := map[string]any{
		"schemas": []string{schemaResourceType}, "id": "User", "name": "User", "endpoint": "/Users",
		"description": "User Account", "schema": SchemaUser,
		"schemaExtensions": []map[string]any{{"schema": SchemaEnterprise, "required": false}},
		"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
	}
	group := map[string]any{
		"schemas": []string{schemaResourceType}, "id": "Group", "name": "Group", "endpoint": "/Groups",
		"description": "Group", "schema": SchemaGroup,
		"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"},
	}
	if id := r.PathValue("id"); id != "" {
		for _, t := range []map[string]any{user, group} {
			if strings.EqualFold(id, t["id"].(string)) {
				writeJSON(w, http.StatusOK, t)
				return
			}
		}
		f.WriteError(w, r, newError(http.StatusNotFound, "", "No resource type "+id+"."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{schemaListResponse}, "totalResults": 2, "startIndex": 1,
		"itemsPerPage": 2, "Resources": []any{user, group}})
}

// attr describes an attribute as RFC 7643 §7 has it.
func attr(name, typ string, extra map[string]any) map[string]any {
	a := map[string]any{"name": name, "type": typ, "multiValued": false, "description": "", "required": false,
		"caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none"}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func multi(name, description string, subs ...map[string]any) map[string]any {
	return attr(name, "complex", map[string]any{"multiValued": true, "description": description, "subAttributes": subs})
}

// the canonical record's one value (the primary, else the work one) and the others kept
// as written.
func workValues(name, description string, types ...string) map[string]any {
	return multi(name, description+" The primary value (else the work one, else the first) is the one every face sees and filters can find; the others are kept as written.",
		attr("value", "string", nil),
		attr("display", "string", nil),
		attr("type", "string", map[string]any{"canonicalValues": types}),
		attr("primary", "boolean", nil))
}

// kept describes an attribute iamd keeps as written: shown, set and patched, not
// filtered on.
func kept(a map[string]any) map[string]any {
	a["description"] = strings.TrimSpace(a["description"].(string) + " Kept as written; cannot be filtered on.")
	return a
}

// keptValues is a kept multi-valued attribute of value, display, type and primary.
func keptValues(name, valueType string, types ...string) map[string]any {
	return kept(multi(name, "",
		attr("value", valueType, nil), attr("display", "string", nil),
		attr("type", "string", map[string]any{"canonicalValues": types}), attr("primary", "boolean", nil)))
}

var userSchema = map[string]any{
	"schemas": []string{schemaSchema}, "id": SchemaUser, "name": "User", "description": "User Account",
	"attributes": []map[string]any{
		attr("userName", "string", map[string]any{"required": true, "uniqueness": "server",
			"description": "Unique within the tenant, compared ignoring case. A PUT or PATCH that changes it renames the user in every API."}),
		attr("name", "complex", map[string]any{"subAttributes": []map[string]any{
			attr("formatted", "string", map[string]any{"description": "The full name formatted for display; kept as written, apart from displayName."}),
			attr("familyName", "string", nil), attr("givenName", "string", nil),
			kept(attr("middleName", "string", nil)), kept(attr("honorificPrefix", "string", nil)),
			kept(attr("honorificSuffix", "string", nil))}}),
		attr("displayName", "string", nil),
		kept(attr("nickName", "string", nil)),
		kept(attr("profileUrl", "reference", map[string]any{"referenceTypes": []string{"external"}})),
		kept(attr("title", "string", nil)),
		kept(attr("userType", "string", nil)),
		kept(attr("preferredLanguage", "string", nil)),
		workValues("emails", "Email addresses.", "work", "home", "other"),
		workValues("phoneNumbers", "Phone numbers; an international number (+1 555 0100) is kept as calling code and number.",
			"work", "home", "mobile", "fax", "pager", "other"),
		keptValues("ims", "string", "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
		keptValues("photos", "reference", "photo", "thumbnail"),
		kept(multi("addresses", "",
			attr("formatted", "string", nil), attr("streetAddress", "string", nil), attr("locality", "string", nil),
			attr("region", "string", nil), attr("postalCode", "string", nil), attr("country", "string", nil),
			attr("type", "string", map[string]any{"canonicalValues": []string{"work", "home", "other"}}),
			attr("primary", "boolean", nil))),
		keptValues("entitlements", "string"),
		keptValues("x509Certificates", "binary"),
		attr("locale", "string", nil),
		attr("timezone", "string", nil),
		attr("active", "boolean", map[string]any{"description": "false suspends the user: it cannot sign in."}),
		attr("password", "string", map[string]any{"mutability": "writeOnly", "returned": "never",
			"description": "Set by POST, PUT or PATCH; checked by the instance's password policy before anything is written."}),
		multi("roles", "The user's direct roles, by name: the instance's roles (iamd_admin, iamd_viewer, ece_*, custom ones). Granting needs ROLE_WRITE; a PUT without roles keeps them. Roles inherited through groups are not listed.",
			attr("value", "string", map[string]any{"required": true}),
			attr("display", "string", map[string]any{"mutability": "readOnly"})),
		multi("groups", "Groups the user belongs to: directly, or through groups nested in them (type indirect). Changed through the Group's members.",
			attr("value", "string", map[string]any{"mutability": "readOnly"}),
			attr("$ref", "reference", map[string]any{"mutability": "readOnly", "referenceTypes": []string{"Group"}}),
			attr("display", "string", map[string]any{"mutability": "readOnly"}),
			attr("type", "string", map[string]any{"mutability": "readOnly", "canonicalValues": []string{"direct", "indirect"}})),
	},
	"meta": map[string]any{"resourceType": "Schema"},
}

var groupSchema = map[string]any{
	"schemas": []string{schemaSchema}, "id": SchemaGroup, "name": "Group", "description": "Group",
	"attributes": []map[string]any{
		attr("displayName", "string", map[string]any{"required": true, "uniqueness": "server",
			"description": "Unique within the instance, compared ignoring case. Groups can be filtered by displayName eq, id eq, externalId eq and members[value eq], joined by and."}),
		multi("members", "Members: users, and groups whose users are then members too. A group cannot be its own member, directly or through others.",
			attr("value", "string", map[string]any{"mutability": "immutable"}),
			attr("$ref", "reference", map[string]any{"mutability": "immutable", "referenceTypes": []string{"User", "Group"}}),
			attr("display", "string", map[string]any{"mutability": "readOnly"}),
			attr("type", "string", map[string]any{"mutability": "immutable", "canonicalValues": []string{"User", "Group"}})),
	},
	"meta": map[string]any{"resourceType": "Schema"},
}

var enterpriseSchema = map[string]any{
	"schemas": []string{schemaSchema}, "id": SchemaEnterprise, "name": "EnterpriseUser", "description": "Enterprise User",
	"attributes": []map[string]any{
		attr("employeeNumber", "string", nil), attr("organization", "string", nil), attr("division", "string", nil),
		attr("department", "string", nil), kept(attr("costCenter", "string", nil)),
		attr("manager", "complex", map[string]any{"description": "Also accepted as a plain id, or a list of one (Entra ID).",
			"subAttributes": []map[string]any{attr("value", "string", nil), kept(attr("displayName", "string", nil))}}),
	},
	"meta": map[string]any{"resourceType": "Schema"},
}

func (f *Face) schemas(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r.Context())
	withLocation := func(s map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range s {
			out[k] = v
		}
		out["meta"] = map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + s["id"].(string)}
		return out
	}
	all := []any{withLocation(userSchema), withLocation(groupSchema), withLocation(enterpriseSchema)}
	if id := r.PathValue("id"); id != "" {
		for _, s := range []map[string]any{userSchema, groupSchema, enterpriseSchema} {
			if strings.EqualFold(id, s["id"].(string)) {
				writeJSON(w, http.StatusOK, withLocation(s))
				return
			}
		}
		f.WriteError(w, r, newError(http.StatusNotFound, "", "No schema "+id+"."))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"schemas": []string{schemaListResponse}, "totalResults": len(all), "startIndex": 1,
		"itemsPerPage": len(all), "Resources": all})
}
