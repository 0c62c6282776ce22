package clock

import (
	"testing"
	"time"
)

func TestFakeFiresInOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(t0)
	a := f.NewTimer(2 * time.Second)
	b := f.NewTimer(time.Second)
	c := f.NewTimer(time.Hour)
	f.Advance(1500 * time.Millisecond)
	select {
	case <-b.C():
	default:
		t.Fatal("b did not fire")
	}
	select {
	case <-a.C():
		t.Fatal("a fired early")
	default:
	}
	if !c.Stop() {
		t.Fatal("stop c")
	}
	f.Advance(time.Second)
	select {
	case got := <-a.C():
		if !got.Equal(t0.Add(2500 * time.Millisecond)) {
			t.Fatalf("a fired at %v", got)
		}
	default:
		t.Fatal("a did not fire")
	}
	if f.Pending() != 0 {
		t.Fatalf("pending %d", f.Pending())
	}
	if z := f.NewTimer(0); z.Stop() {
		t.Fatal("a zero timer fires at once")
	}
}
