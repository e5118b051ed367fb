package webhooks

import "time"

// RetryWindow is how long a failing event is retried, and how long an
// endpoint may fail before it is disabled.
const RetryWindow = 72 * time.Hour

// DefaultRetryBase is the wait after the first failure
// (FEDDI_WEBHOOK_RETRY_BASE).
const DefaultRetryBase = 30 * time.Second

// maxRetryWait caps the doubling.
const maxRetryWait = 12 * time.Hour

// RetryWait is the wait after the failed attempt number attempt (1 is the
// first): base, doubled per failure, at most 12 hours. With the default
// base the attempts span the three days of RetryWindow in about sixteen
// tries.
func RetryWait(attempt int, base time.Duration) time.Duration {
	wait := base
	for i := 1; i < attempt && wait < maxRetryWait; i++ {
		wait *= 2
	}
	return min(wait, maxRetryWait)
}
