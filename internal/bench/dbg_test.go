package bench

import (
	"fmt"
	"github.com/imsid/imsid/switcher"
	"testing"
)

func TestDbgJam(t *testing.T) {
	decisionHook = func(d switcher.Decision) {
		fmt.Print(d.Time.Format("02 15:04:05"), " ", d.Kind, " ", d.From, ">", d.To, " ", d.Trigger)
		for _, r := range d.Reasons {
			fmt.Print(" [", r.String(), "]")
		}
		fmt.Println()
	}
	defer func() { decisionHook = nil }()
	sc := Scenarios()[4]
	r := runIn(t, sc, Variants()[4], 1)
	fmt.Printf("%+v\n", r)
}
