package store_test

import (
	"fmt"
	"log"
	"os"
	"time"

	"github.com/imsid/imsid/internal/store"
)

// A switch is journalled before the modem is touched; after a crash the
// daemon finds it unfinished and records what the modem actually carries.
func Example_journal() {
	dir, _ := os.MkdirTemp("", "imsid-store")
	defer os.RemoveAll(dir)

	s, err := store.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	started := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	id, _ := s.BeginSwitch(store.Intent{From: "home", To: "roam", Reason: "no service", Started: started, Ref: 12})
	_ = s.Close() // the process dies here, mid-switch

	s, _ = store.Open(dir)
	defer s.Close()
	un, _ := s.Unfinished()
	for _, in := range un {
		fmt.Printf("switch %d %s→%s was interrupted\n", in.ID, in.From, in.To)
		_ = s.EndSwitch(store.Outcome{ID: in.ID, Result: "reconciled", Active: "roam", Finished: started.Add(time.Minute)})
		_ = s.SetActive("roam")
	}
	un, _ = s.Unfinished()
	fmt.Println(id, len(un))
	// Output:
	// switch 1 home→roam was interrupted
	// 1 0
}

// The outbox keeps events in order across restarts; beyond the bound the
// oldest go and are counted.
func Example_outbox() {
	dir, _ := os.MkdirTemp("", "imsid-store")
	defer os.RemoveAll(dir)
	s, _ := store.Open(dir, store.WithOutboxLimit(3, 0))
	defer s.Close()
	for i := range 5 {
		_, _ = s.Enqueue(fmt.Appendf(nil, `{"n":%d}`, i))
	}
	items, _ := s.Peek(10)
	for _, it := range items {
		fmt.Println(it.Seq, string(it.Data))
	}
	_ = s.Ack(items[0].Seq)
	fmt.Println("queued", s.Len(), "dropped", s.Dropped())
	// Output:
	// 3 {"n":2}
	// 4 {"n":3}
	// 5 {"n":4}
	// queued 2 dropped 2
}
