package switcher

import (
	"errors"
	"flag"
	"os"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/switcher.md's generated diagram")

func TestTransitionTable(t *testing.T) {
	allowed := map[State]map[Event]State{}
	for _, tr := range Transitions {
		for _, f := range tr.From {
			if allowed[f] == nil {
				allowed[f] = map[Event]State{}
			}
			if _, dup := allowed[f][tr.Event]; dup {
				t.Fatalf("%s declared twice from %s", tr.Event, f)
			}
			allowed[f][tr.Event] = tr.To
		}
	}
	var events []Event
	for _, tr := range Transitions {
		events = append(events, tr.Event)
	}
	for _, from := range AllStates {
		for _, ev := range events {
			l := newLifecycle(from)
			err := l.Fire(ev)
			to, ok := allowed[from][ev]
			switch {
			case ok && (err != nil || l.Current() != to):
				t.Errorf("%s --%s--> got %s (%v), want %s", from, ev, l.Current(), err, to)
			case !ok && (!errors.Is(err, ErrBadTransition) || l.Current() != from):
				t.Errorf("%s --%s--> must be refused, got %s (%v)", from, ev, l.Current(), err)
			}
		}
	}
}

func TestEveryStateReachableAndLeavable(t *testing.T) {
	seen := map[State]bool{StateStarting: true}
	queue := []State{StateStarting}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, tr := range Transitions {
			if slices.Contains(tr.From, s) && !seen[tr.To] {
				seen[tr.To] = true
				queue = append(queue, tr.To)
			}
		}
	}
	for _, s := range AllStates {
		if !seen[s] {
			t.Errorf("%s unreachable from starting", s)
		}
		leaves := false
		for _, tr := range Transitions {
			leaves = leaves || slices.Contains(tr.From, s)
		}
		if !leaves {
			t.Errorf("%s is a dead end", s)
		}
	}
}

func TestDocDiagramUpToDate(t *testing.T) {
	const path = "../docs/switcher.md"
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := SpliceDiagram(old)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) == string(old) {
		return
	}
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s is stale: run go test ./switcher -run TestDocDiagram -update (or go generate ./switcher)", path)
}
