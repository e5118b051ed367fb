// Package clock holds the one rule about time: the service reads it from one
// clock, a func() time.Time the app is built with (time.Now in production)
// and passes to every service, and SQL that decides by time receives that
// clock's time as a parameter instead of calling now(). Tests move time by
// advancing a Clock instead of rewriting timestamps in the database.
package clock

import (
	"sync"
	"time"
)

// OrWall returns now, or time.Now when now is nil.
func OrWall(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// Clock is the wall clock moved by an offset a test sets: Now is
// time.Now().Add(offset). It keeps running, so code that measures
// elapsed time still works, unless a test stops it (Stop) to keep a slow
// run from earning what time would refill. It is safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	offset  time.Duration
	stopped *time.Time // non-nil: time stands still here
}

// New returns a clock that reads the wall clock until advanced.
func New() *Clock { return &Clock{} }

// Now returns the wall clock plus the offset, or the time it was stopped at.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped != nil {
		return *c.stopped
	}
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d (backward when d is negative),
// running or stopped.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
	if c.stopped != nil {
		at := c.stopped.Add(d)
		c.stopped = &at
	}
}

// Stop makes time stand still (Advance still moves it) until Start.
func (c *Clock) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped == nil {
		at := time.Now().Add(c.offset)
		c.stopped = &at
	}
}

// Start lets a stopped clock run on from where it stands.
func (c *Clock) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped != nil {
		c.offset = time.Until(*c.stopped)
		c.stopped = nil
	}
}

// Offset is how far the clock runs ahead of the wall clock.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped != nil {
		return time.Until(*c.stopped)
	}
	return c.offset
}
