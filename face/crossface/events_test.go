package crossface_test

import (
	"context"
	"testing"

	"iamd"
	"iamd/storetest"
)

// Every change is recorded with the face it came through, and with the fields it set in
// iamd's own words, whatever the face called them.
func TestEventsNameTheirFace(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			e := start(t, engine.Open(t))
			admin := caller{e: e, token: adminToken, key: adminKey, secret: adminSecret}
			for _, a := range acts {
				if a.name != "change profile" {
					continue
				}
				target := e.newUser("audited-" + a.face)
				if r := a.do(admin, e.current(target.user), newPassword); r.status/100 != 2 {
					t.Fatalf("%s: %s", a.face, r)
				}
				evs, err := e.core.Directory.ListEvents(e.admin, iamd.EventFilter{InstanceID: inst, TargetID: target.user.ID,
					Action: iamd.ActionUserUpdate})
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) != 1 || evs[0].Face != a.face || len(evs[0].Changes) == 0 {
					t.Errorf("%s's change recorded as %+v", a.face, evs)
					continue
				}
				for _, field := range evs[0].Changes {
					if _, known := iamd.FilterFields[field]; !known && field != iamd.FieldPassword && field != "console_denied" &&
						field != "api_denied" && field != iamd.FieldRoles && field != iamd.FieldGroupIDs {
						t.Errorf("%s's change names the field %q, not one of iamd's", a.face, field)
					}
				}
			}
			// What the core does on no face's behalf names none.
			evs, err := e.store.ListEvents(context.Background(), iamd.EventFilter{InstanceID: inst, Action: iamd.ActionInstanceCreate})
			if err != nil || len(evs) != 1 || evs[0].Face != iamd.FaceSystem {
				t.Errorf("the bootstrap's instance event: %v %+v", err, evs)
			}
		})
	}
}
