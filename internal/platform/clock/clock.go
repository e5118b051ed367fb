// Package clock holds the one rule about time: the service reads it from one
// clock, a func() time.Time the app is built with (time.Now in production)
// and passes to every service, and SQL that decides by time receives that
// clock's time as a parameter instead of calling now(). Tests move time by
// advancing a Clock instead of rewriting timestamps in the database.
package clock

import (
	"sync/atomic"
	"time"
)

// Func is a source of the current time; time.Now in production.
type Func = func() time.Time

// OrWall returns now, or time.Now when now is nil.
func OrWall(now Func) Func {
	if now == nil {
		return time.Now
	}
	return now
}

// Clock is the wall clock moved by an offset a test sets: Now is
// time.Now().Add(offset). It keeps running, so code that measures
// elapsed time still works, and it is safe for concurrent use.
type Clock struct {
	offset atomic.Int64 // nanoseconds
}

// New returns a clock that reads the wall clock until advanced.
func New() *Clock { return &Clock{} }

// Now returns the wall clock plus the offset.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d (backward when d is negative).
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Offset is how far the clock runs ahead of the wall clock.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }
