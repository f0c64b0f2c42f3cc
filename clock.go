package tars

import "time"

// The client's and the server's own time stamps are read from the
// monotonic clock alone: time.Since costs one clock read, time.Now two (it
// reads the wall clock too), and a step of the wall clock cannot move a
// monotonic stamp. Stamps are nanoseconds since clockBase; monoNow gives a
// time.Time on the same clock for the deadlines that must be time.Time.
var clockBase = time.Now()

// nanotime is the monotonic clock in nanoseconds since clockBase.
func nanotime() int64 { return int64(time.Since(clockBase)) }

// monoOf is t (a time with a monotonic reading, such as time.Now's and the
// deadlines computed from it) in nanoseconds since clockBase.
func monoOf(t time.Time) int64 { return int64(t.Sub(clockBase)) }

// monoNow is the current time from one clock read: monotonic, with a wall
// clock reading that is clockBase's advanced by the monotonic clock (it
// does not see steps of the wall clock since the process started).
// Deadlines are compared and subtracted on the monotonic clock, which is
// all a deadline is for.
func monoNow() time.Time { return clockBase.Add(time.Since(clockBase)) }
