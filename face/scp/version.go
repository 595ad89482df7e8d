package scp

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Version policies: what happens to a request naming a version whose Not Before date
// has arrived.
const (
	PolicyEnforce = "enforce" // refuse it, as SCP does; the default
	PolicyWarn    = "warn"    // serve it, with Deprecation and Sunset headers
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
	Status       string // as SCP's documentation lists it
	// NotBefore (YYYY-MM-DD) is the day, from 00:00 UTC, on which the version is no longer
	// supported; "" for none. SCP's pages call the same column "Supported Until" while a
	// version is SUPPORTED, so the date ends every version that has one.
	NotBefore string
}

func (v APIVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// end is NotBefore as an instant; ok is false for a version without one.
func (v APIVersion) end() (t time.Time, ok bool) {
	if v.NotBefore == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, v.NotBefore)
	return t, err == nil
}

// Retired reports whether v's Not Before date has arrived at now.
func (v APIVersion) Retired(now time.Time) bool {
	end, ok := v.end()
	return ok && !now.Before(end)
}

// StatusAt is v's status at now: the documented one until its Not Before date arrives,
// DEPRECATED from then on.
func (v APIVersion) StatusAt(now time.Time) string {
	if v.Retired(now) {
		return StatusDeprecated
	}
	return v.Status
}

// Versions is IAM Identity Center's version table, from SCP's current documentation.
// Behaviour follows from this data and the clock; handlers do not branch on versions.
var Versions = []APIVersion{
	{1, 4, StatusCurrent, ""},
	{1, 3, StatusSupported, "2026-11-30"},
	{1, 2, StatusSupported, "2026-09-30"},
	{1, 1, StatusDeprecated, "2026-05-31"},
	{1, 0, StatusDeprecated, "2026-02-23"},
}

func init() {
	for _, v := range Versions {
		if _, ok := v.end(); v.NotBefore != "" && !ok {
			panic(fmt.Sprintf("scp: version %s: Not Before %q is not YYYY-MM-DD", v, v.NotBefore))
		}
	}
}

func currentVersion() APIVersion {
	for _, v := range Versions {
		if v.Status == StatusCurrent {
			return v
		}
	}
	return Versions[0]
}

// callable reports whether a request may name v at now under the face's policy.
func (f *Face) callable(v APIVersion, now time.Time) bool {
	return v.Status != StatusPlanned && (f.cfg.VersionPolicy == PolicyWarn || !v.Retired(now))
}

func (f *Face) callableVersions(now time.Time) []string {
	var out []string
	for _, v := range Versions {
		if f.callable(v, now) {
			out = append(out, v.String())
		}
	}
	return out
}

// lifecycleHeaders tell a client when v stops being supported: Sunset (RFC 8594, an
// HTTP-date) for every version with a Not Before date, and Deprecation (RFC 9745, a
// structured-field Date) once it is deprecated. SCP publishes one date per version, so
// both carry it; RFC 9745 requires only that Sunset not be earlier than Deprecation.
func lifecycleHeaders(v APIVersion, now time.Time, h http.Header) {
	end, ok := v.end()
	if !ok {
		return
	}
	h.Set("Sunset", end.UTC().Format(http.TimeFormat))
	if v.StatusAt(now) == StatusDeprecated {
		h.Set("Deprecation", "@"+strconv.FormatInt(end.Unix(), 10))
	}
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

// negotiate picks the version a request asks for and the headers that describe it, or
// an error naming the versions callable now. The headers go with a refusal too.
func (f *Face) negotiate(header string) (APIVersion, http.Header, error) {
	extra := http.Header{}
	if strings.TrimSpace(header) == "" {
		return currentVersion(), extra, nil
	}
	now := f.cfg.Now()
	refuse := func(why string) error {
		return &faceError{status: http.StatusBadRequest, code: CodeUnsupportedVersion, field: HeaderAPIVersion,
			detail: fmt.Sprintf("%s Callable versions: %s (send %s: %s %s).", why, strings.Join(f.callableVersions(now), ", "),
				HeaderAPIVersion, ServiceName, currentVersion())}
	}
	major, minor, ok := parseVersionHeader(header)
	if !ok {
		return APIVersion{}, extra, refuse(fmt.Sprintf("%s must look like %q.", HeaderAPIVersion, ServiceName+" "+currentVersion().String()))
	}
	for _, v := range Versions {
		if v.Major != major || v.Minor != minor {
			continue
		}
		if v.Status == StatusPlanned {
			return APIVersion{}, extra, refuse(fmt.Sprintf("Version %s is planned and not callable yet.", v))
		}
		lifecycleHeaders(v, now, extra)
		if !f.callable(v, now) {
			return APIVersion{}, extra, refuse(fmt.Sprintf("Version %s is no longer supported: its Not Before date, %s, has arrived.", v, v.NotBefore))
		}
		return v, extra, nil
	}
	return APIVersion{}, extra, refuse(fmt.Sprintf("Version %d.%d is unknown.", major, minor))
}

// versioned checks the requested API version before anything else runs.
func (f *Face) versioned(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, extra, err := f.negotiate(r.Header.Get(HeaderAPIVersion))
		for k, v := range extra {
			w.Header()[k] = v
		}
		if err != nil {
			f.WriteError(w, r, err)
			return
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

// listVersions answers the service root with the version table as of the server's clock
// (a version whose Not Before date has arrived is DEPRECATED). It needs no signature:
// clients discover versions before they call.
func (f *Face) listVersions(w http.ResponseWriter, r *http.Request) {
	base := strings.TrimSuffix(strings.TrimSuffix(requestURL(r), "?"+r.URL.RawQuery), "/")
	out := struct {
		Versions []versionItem `json:"versions"`
	}{}
	now := f.cfg.Now()
	for _, v := range Versions {
		item := versionItem{ID: "v" + v.String(), Status: v.StatusAt(now), Links: []versionLink{{Href: base + "/v" + strconv.Itoa(v.Major), Rel: "self"}}}
		if v.NotBefore != "" {
			nb := v.NotBefore
			item.NotBefore = &nb
		}
		out.Versions = append(out.Versions, item)
	}
	writeJSON(w, http.StatusOK, out)
}
