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
	defer c.backend.Close()
	f := iamd.EventFilter{InstanceID: c.instance}
	if f.Since, err = timeFlag("--since", *since); err != nil {
		return err
	}
	if f.Until, err = timeFlag("--until", *until); err != nil {
		return err
	}
	out := bufio.NewWriter(stdout)
	err = c.backend.ExportEvents(ctx, f, func(record json.RawMessage) error {
		out.Write(record)
		return out.WriteByte('\n')
	})
	if err != nil {
		return describe(err)
	}
	return out.Flush()
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
