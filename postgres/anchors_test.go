package postgres_test

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"

	"iamd/internal/pgtest"
	"iamd/postgres"
	"iamd/storetest"
)

func TestListingsSeeWritersUnawareOfAnchors(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	storetest.ListingsSeeWritersUnawareOfAnchors(t, s, raw, func(q string) string {
		var b strings.Builder
		n := 0
		for _, r := range q {
			if r == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(r)
		}
		return b.String()
	})
}
