package ncloud

import "testing"

// The three test vectors of faces.md §2.
func TestSignatureV2Vectors(t *testing.T) {
	const key, secret, ts = "ncp_iam_EXAMPLEACCESSKEY", "ncp_iam_EXAMPLESECRETKEY", "1700000000000"
	for _, c := range []struct{ method, uri, want string }{
		{"GET", "/api/v1/users?page=0&size=20", "tV7KXWv8i1RyZ8emp85pOjVKY4rfelb/HzEmM95KKYo="},
		{"POST", "/api/v1/users", "jXkqOUQXAr2QDG81DosKWEXH+2H8T/hDkdw8iAUjUzs="},
		{"GET", "/api/v1/users/80d9ba0d-1111-2222-3333-76afe6ea5b33", "FzjaJ5bhdxdZ6luQ3mnfXilEu2EP559zX6fd37U9EJk="},
	} {
		if got := Sign(secret, c.method, c.uri, ts, key); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.method, c.uri, got, c.want)
		}
	}
}
