package main

import (
	"testing"

	"github.com/tracehound/tracehound/bench/internal/benchresult"
)

func closed(name string, c int, spansPerSec float64) *result {
	return &result{Result: benchresult.Result{Name: name, Mode: "closed", Concurrency: c, SpansPerSec: spansPerSec}}
}

func TestStockBracket(t *testing.T) {
	th := []*result{closed("tracehound", 8, 12000), closed("tracehound", 64, 18000),
		{Result: benchresult.Result{Name: "tracehound", Mode: "open", SpansPerSec: 10000}}}
	for _, tc := range []struct {
		name          string
		before, after []*result
		want          string
	}{
		{
			name:   "stock slower after",
			before: []*result{closed("stock", 8, 40000), closed("stock", 64, 60000)},
			after:  []*result{closed("stock-after", 8, 40000), closed("stock-after", 64, 45000)},
			want: "tracehound / stock, against stock before and after it: " +
				"c=8 0.30–0.30x (stock 40000 before, 40000 after: +0%), c=64 0.30–0.40x (stock 60000 before, 45000 after: -25%)",
		},
		{
			name:   "a level stock-after did not run is left out",
			before: []*result{closed("stock", 8, 40000), closed("stock", 64, 60000)},
			after:  []*result{closed("stock-after", 64, 72000)},
			want:   "tracehound / stock, against stock before and after it: c=64 0.25–0.30x (stock 60000 before, 72000 after: +20%)",
		},
		{
			name:   "no common level",
			before: []*result{closed("stock", 128, 80000)},
			after:  []*result{closed("stock-after", 128, 80000)},
			want:   "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := stockBracket(th, tc.before, tc.after); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
