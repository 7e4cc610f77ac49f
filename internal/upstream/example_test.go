package upstream_test

import (
	"context"
	"log"

	"github.com/imsid/imsid/internal/store"
	"github.com/imsid/imsid/internal/upstream"
	"github.com/imsid/imsid/profiles"
)

// How the daemon wires reporting: the store is the outbox, events are
// published as they happen, Run delivers them.
func Example() {
	var cfg profiles.Config // from profiles.Load
	if cfg.Upstream.URL == "" {
		return // reporting disabled
	}
	st, err := store.Open(cfg.StateDir, store.WithOutboxLimit(cfg.Upstream.OutboxMax, 0))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	rep, err := upstream.New(cfg.Upstream, "gw-0042", st,
		upstream.WithOnAdvisories(func(active []upstream.Advisory) { /* hand to the switcher */ }))
	if err != nil {
		log.Fatal(err)
	}
	defer rep.Close()
	ids := rep.Identities()
	_, _ = rep.Publish(upstream.TypeSwitch, upstream.Switch{
		From: "home", To: "roam", Trigger: "hard", Reasons: []string{"no service for 90s"},
		Result: "ok", IMSI: ids.Export("001010123456789"),
	})
	go func() { _ = rep.Run(context.Background()) }()
}
