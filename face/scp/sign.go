package scp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"iamd"
	"iamd/account"
)

// Request signing headers (matched case-insensitively, as every header).
const (
	HeaderAccessKey  = "Scp-AccessKey"
	HeaderSignature  = "Scp-Signature"
	HeaderTimestamp  = "Scp-Timestamp"
	HeaderClientType = "Scp-ClientType"
	HeaderAccountID  = "Scp-AccountId"
)

// StringToSign is what SCP signs: the fields concatenated without separators.
func StringToSign(method, fullURL, timestamp, accessKey, accountID, clientType string) string {
	return method + fullURL + timestamp + accessKey + accountID + clientType
}

// SignedHeaders returns the headers of a signed call, in the order SCP's clients send
// them (Scp-AccountId even when empty), for every client iamd ships: `iamd sign` and
// the load tool.
func SignedHeaders(secret, method, fullURL, timestamp, accessKey, accountID, clientType string) [][2]string {
	return [][2]string{
		{HeaderAccessKey, accessKey},
		{HeaderSignature, Sign(secret, method, fullURL, timestamp, accessKey, accountID, clientType)},
		{HeaderTimestamp, timestamp},
		{HeaderClientType, clientType},
		{HeaderAccountID, accountID},
	}
}

// Sign returns the Scp-Signature value: base64 of HMAC-SHA256 under the secret key.
func Sign(secret, method, fullURL, timestamp, accessKey, accountID, clientType string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(StringToSign(method, fullURL, timestamp, accessKey, accountID, clientType)))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// requestURL rebuilds the URL the client called: scheme, Host header, and the request
// target exactly as sent (path escaping and query untouched).
func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// Behind a TLS-terminating proxy the client signed https. Honouring the header costs
	// nothing: without the secret a signature cannot be made to match either way.
	if p := strings.ToLower(r.Header.Get("X-Forwarded-Proto")); p == "https" || p == "http" {
		scheme = p
	}
	target := r.RequestURI
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		return target // absolute-form request target
	}
	return scheme + "://" + r.Host + target
}

// authenticated checks the request's signature and puts the caller in the context.
func (f *Face) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(HeaderAccessKey)
		sig := r.Header.Get(HeaderSignature)
		if key == "" || sig == "" {
			f.WriteError(w, r, iamd.Errorf(iamd.EUNAUTHENTICATED, "The request must be signed: %s and %s headers are required.", HeaderAccessKey, HeaderSignature))
			return
		}
		ts := r.Header.Get(HeaderTimestamp)
		message := StringToSign(r.Method, requestURL(r), ts, key, r.Header.Get(HeaderAccountID), r.Header.Get(HeaderClientType))
		p, err := account.VerifySignedRequest(r.Context(), f.cfg.Auth, key, ts, sig, []byte(message), f.cfg.Now(), f.cfg.Skew)
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(iamd.NewContextWithPrincipal(r.Context(), p)))
	})
}
