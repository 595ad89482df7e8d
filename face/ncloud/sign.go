package ncloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"iamd"
	"iamd/account"
)

// NAVER Cloud API Gateway signature v2 headers (matched case-insensitively).
const (
	HeaderTimestamp = "x-ncp-apigw-timestamp"
	HeaderAccessKey = "x-ncp-iam-access-key"
	HeaderSignature = "x-ncp-apigw-signature-v2"
)

// StringToSign is what signature v2 signs: the method and the request URI (path and
// query exactly as sent, no scheme or host), the timestamp, and the access key, on
// lines of their own. The body is not signed.
func StringToSign(method, requestURI, timestamp, accessKey string) string {
	return method + " " + requestURI + "\n" + timestamp + "\n" + accessKey
}

// Sign returns the signature v2 value: base64 of HMAC-SHA256 under the secret key.
func Sign(secret, method, requestURI, timestamp, accessKey string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(StringToSign(method, requestURI, timestamp, accessKey)))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// SignedHeaders returns the headers of a signed call.
func SignedHeaders(secret, method, requestURI, timestamp, accessKey string) [][2]string {
	return [][2]string{
		{HeaderTimestamp, timestamp},
		{HeaderAccessKey, accessKey},
		{HeaderSignature, Sign(secret, method, requestURI, timestamp, accessKey)},
	}
}

// authenticated checks the request's signature (within the timestamp window) and puts
// the caller in the context. What fails is the gateway's: 401, errorCode 200.
func (f *Face) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, sig, ts := r.Header.Get(HeaderAccessKey), r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp)
		if key == "" || sig == "" {
			f.WriteError(w, r, iamd.Errorf(iamd.EUNAUTHENTICATED, "The request must be signed: %s, %s and %s headers are required.",
				HeaderTimestamp, HeaderAccessKey, HeaderSignature))
			return
		}
		p, err := account.VerifySignedRequest(r.Context(), f.acct, key, ts, sig, []byte(StringToSign(r.Method, r.RequestURI, ts, key)),
			f.cfg.Now(), f.cfg.Skew)
		if err != nil {
			f.WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(iamd.NewContextWithPrincipal(r.Context(), p)))
	})
}
