package scp

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Version policies for DEPRECATED versions past their date.
const (
	PolicyWarn    = "warn"
	PolicyEnforce = "enforce"
)

// Version statuses as SCP's version list shows them.
const (
	StatusCurrent    = "CURRENT"
	StatusSupported  = "SUPPORTED"
	StatusDeprecated = "DEPRECATED"
	StatusPlanned    = "PLANNED"
)

// HeaderAPIVersion selects the API version: "iam-identity-center 1.4".
const HeaderAPIVersion = "Scp-Api-Version"

// ServiceName is the service part of the version header.
const ServiceName = "iam-identity-center"

// APIVersion is one row of the version table.
type APIVersion struct {
	Major, Minor int
	Status       string
	NotBefore    string // YYYY-MM-DD; for DEPRECATED, the date from which it is no longer supported
}

func (v APIVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Versions is IAM Identity Center's version table, from SCP's current documentation.
// Behaviour follows from this data; handlers do not branch on versions.
var Versions = []APIVersion{
	{1, 4, StatusCurrent, ""},
	{1, 3, StatusSupported, "2026-11-30"},
	{1, 2, StatusSupported, "2026-09-30"},
	{1, 1, StatusDeprecated, "2026-05-31"},
	{1, 0, StatusDeprecated, "2026-02-23"},
}

func currentVersion() APIVersion {
	for _, v := range Versions {
		if v.Status == StatusCurrent {
			return v
		}
	}
	return Versions[0]
}

func callableVersions() []string {
	var out []string
	for _, v := range Versions {
		if v.Status != StatusPlanned {
			out = append(out, v.String())
		}
	}
	return out
}

// parseVersionHeader reads "iam-identity-center 1.4" (the service name is compared
// ignoring case; a "v" before the number is tolerated).
func parseVersionHeader(h string) (major, minor int, ok bool) {
	fields := strings.Fields(h)
	if len(fields) != 2 || !strings.EqualFold(fields[0], ServiceName) {
		return 0, 0, false
	}
	num := strings.TrimPrefix(strings.TrimPrefix(fields[1], "v"), "V")
	a, b, found := strings.Cut(num, ".")
	if !found {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || major < 0 || minor < 0 || len(a) > 3 || len(b) > 3 {
		return 0, 0, false
	}
	return major, minor, true
}

// negotiate picks the version a request asks for and the headers to send with it, or
// an error naming the callable versions.
func (f *Face) negotiate(header string) (APIVersion, http.Header, error) {
	extra := http.Header{}
	if strings.TrimSpace(header) == "" {
		return currentVersion(), extra, nil
	}
	callable := strings.Join(callableVersions(), ", ")
	refuse := func(why string) error {
		return &faceError{status: http.StatusBadRequest, code: CodeUnsupportedVersion, field: HeaderAPIVersion,
			detail: fmt.Sprintf("%s Callable versions: %s (send %s: %s %s).", why, callable, HeaderAPIVersion, ServiceName, currentVersion())}
	}
	major, minor, ok := parseVersionHeader(header)
	if !ok {
		return APIVersion{}, nil, refuse(fmt.Sprintf("%s must look like %q.", HeaderAPIVersion, ServiceName+" "+currentVersion().String()))
	}
	for _, v := range Versions {
		if v.Major != major || v.Minor != minor {
			continue
		}
		switch v.Status {
		case StatusPlanned:
			return APIVersion{}, nil, refuse(fmt.Sprintf("Version %s is planned and not callable yet.", v))
		case StatusDeprecated:
			date, err := time.Parse(time.DateOnly, v.NotBefore)
			if err != nil {
				return v, extra, nil
			}
			// RFC 9745 and RFC 8594: say the version is deprecated and when it goes.
			extra.Set("Deprecation", "@"+strconv.FormatInt(date.Unix(), 10))
			extra.Set("Sunset", date.UTC().Format(http.TimeFormat))
			past := !f.cfg.Now().Before(date)
			if past && f.cfg.VersionPolicy == PolicyEnforce {
				return APIVersion{}, nil, refuse(fmt.Sprintf("Version %s is deprecated and unsupported since %s.", v, v.NotBefore))
			}
		}
		return v, extra, nil
	}
	return APIVersion{}, nil, refuse(fmt.Sprintf("Version %d.%d is unknown.", major, minor))
}

// versioned checks the requested API version before anything else runs.
func (f *Face) versioned(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, extra, err := f.negotiate(r.Header.Get(HeaderAPIVersion))
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		for k, v := range extra {
			w.Header()[k] = v
		}
		next.ServeHTTP(w, r)
	})
}

type versionLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

type versionItem struct {
	ID        string        `json:"id"`
	Links     []versionLink `json:"links"`
	NotBefore *string       `json:"not_before"`
	Status    string        `json:"status"`
}

// listVersions answers the service root with the version table. It needs no signature:
// clients discover versions before they call.
func (f *Face) listVersions(w http.ResponseWriter, r *http.Request) {
	base := strings.TrimSuffix(strings.TrimSuffix(requestURL(r), "?"+r.URL.RawQuery), "/")
	out := struct {
		Versions []versionItem `json:"versions"`
	}{}
	for _, v := range Versions {
		item := versionItem{ID: "v" + v.String(), Status: v.Status, Links: []versionLink{{Href: base + "/v" + strconv.Itoa(v.Major), Rel: "self"}}}
		if v.NotBefore != "" {
			nb := v.NotBefore
			item.NotBefore = &nb
		}
		out.Versions = append(out.Versions, item)
	}
	writeJSON(w, http.StatusOK, out)
}
