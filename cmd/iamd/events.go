package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"iamd"
	"iamd/directory"
	"iamd/face/native"
)

// eventsCommand exports an instance's audit trail as NDJSON, one event a line in the
// native API's shape, newest first, for a SIEM to ingest.
func eventsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return fmt.Errorf("usage: iamd events export --instance ID [--since TIME] [--until TIME] > events.ndjson")
	}
	var since, until *string
	c, err := openAdminCommand(ctx, "events export", args[1:], stderr, func(fs *flag.FlagSet) {
		since = fs.String("since", "", "only events at or after this time (RFC 3339, or a duration ago such as 24h)")
		until = fs.String("until", "", "only events before this time (RFC 3339, or a duration ago)")
	})
	if err != nil {
		return err
	}
	defer c.store.Close()
	f := iamd.EventFilter{InstanceID: c.instance, Limit: iamd.MaxPageSize}
	if f.Since, err = timeFlag("--since", *since); err != nil {
		return err
	}
	if f.Until, err = timeFlag("--until", *until); err != nil {
		return err
	}
	svc := directory.New(c.store)
	ctx = adminContext(ctx)
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	for {
		events, err := svc.ListEvents(ctx, f)
		if err != nil {
			return describe(err)
		}
		logins, err := svc.ActorLogins(ctx, c.instance, native.EventIDs(events))
		if err != nil {
			return describe(err)
		}
		for i := range events {
			if err := enc.Encode(native.EventRecord(&events[i], logins)); err != nil {
				return err
			}
		}
		if len(events) < f.Limit {
			return out.Flush()
		}
		f.Before = events[len(events)-1].ID
	}
}

// timeFlag reads an RFC 3339 time, or a duration before now; "" is no bound.
func timeFlag(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s must be an RFC 3339 time (2027-01-31T00:00:00Z) or a duration ago (24h), got %q", name, s)
}
