package account_test

import (
	"testing"
	"time"

	"iamd"
	"iamd/account"
	"iamd/storetest"
)

// BenchmarkSignIn sets a whole sign-in (user lookup, argon2id verification, session and
// audit event written in one transaction) against the argon2id verification alone, with
// the default parameters. The two alternate within each iteration, so that drift in the
// machine's speed falls on both alike; docs/benchmarks.md records the overhead.
func BenchmarkSignIn(b *testing.B) {
	hash, err := account.DefaultHasher.Hash(goodPassword)
	if err != nil {
		b.Fatal(err)
	}
	for _, engine := range storetest.Engines {
		for _, login := range []string{"admin", "nobody"} {
			b.Run(engine.Name+"/"+login, func(b *testing.B) {
				store := engine.Open(b)
				var key account.MasterKey
				svc := account.New(store, key)
				if _, err := svc.Bootstrap(ctx, account.BootstrapConfig{DefaultInstance: "a", AdminPassword: goodPassword}); err != nil {
					b.Fatal(err)
				}
				in := iamd.SignIn{InstanceID: "a", LoginName: login, Password: goodPassword}
				var hashing, signing time.Duration
				for b.Loop() {
					start := time.Now()
					if ok, _, _ := account.DefaultHasher.Verify(hash, goodPassword); !ok {
						b.Fatal("no match")
					}
					mid := time.Now()
					_, err := svc.SignIn(ctx, in)
					signing += time.Since(mid)
					hashing += mid.Sub(start)
					if (err == nil) != (login == "admin") {
						b.Fatal(err)
					}
				}
				n := float64(b.N)
				b.ReportMetric(float64(hashing.Nanoseconds())/n, "hash-ns/op")
				b.ReportMetric(float64(signing.Nanoseconds())/n, "signin-ns/op")
				b.ReportMetric(1e9/(float64(signing.Nanoseconds())/n), "signins/s")
				b.ReportMetric(100*(float64(signing)/float64(hashing)-1), "overhead-%")
			})
		}
	}
}
