package account_test

import (
	"testing"

	"iamd/account"
	"iamd/storetest"
)

// BenchmarkAuthenticate measures what every signed or bearer request pays to learn who
// is calling, the owner unchanged between requests: the steady state of a busy client.
func BenchmarkAuthenticate(b *testing.B) {
	const keyID, secret = "BENCHKEY", "bench-secret-key-0123456789"
	for _, engine := range storetest.Engines {
		store := engine.Open(b)
		var key account.MasterKey
		svc := account.New(store, key, account.WithHasher(fastHasher))
		res, err := svc.Bootstrap(ctx, account.BootstrapConfig{DefaultInstance: "a", AdminAccessKey: keyID, AdminSecretKey: secret})
		if err != nil {
			b.Fatal(err)
		}
		token := res.Generated["IAMD_ADMIN_API_TOKEN"]
		message := []byte("GET /api/v1/users\n1700000000000")
		sig := mac(secret, string(message))
		b.Run(engine.Name+"/access-key", func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.VerifyHMAC(ctx, keyID, message, sig); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(engine.Name+"/api-token", func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.AuthenticateToken(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
