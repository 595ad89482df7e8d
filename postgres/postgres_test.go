package postgres_test

import (
	"context"
	"sync"
	"testing"

	"iamd/internal/pgtest"
	"iamd/postgres"
	"iamd/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

var open = storetest.OpenPostgres

func TestConformance(t *testing.T) { storetest.Run(t, open) }

// Replicas starting together on one database must not race to migrate it.
func TestConcurrentMigrations(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), url)
			if err == nil {
				err = s.Ping(context.Background())
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}

func BenchmarkStore(b *testing.B) { storetest.Bench(b, open) }
