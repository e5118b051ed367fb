package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// JobMiddleware counts River jobs by kind and outcome, and hands the Set
// to the workers through their context (From). Install it in River's
// Config.Middleware.
type JobMiddleware struct {
	river.MiddlewareDefaults
	set *Set
}

var _ rivertype.WorkerMiddleware = (*JobMiddleware)(nil)

// JobMiddleware returns River middleware over s.
func (s *Set) JobMiddleware() *JobMiddleware { return &JobMiddleware{set: s} }

// Work runs the job and counts what became of it. The duration is real
// elapsed time (infrastructure, docs/architecture.md "Time").
func (m *JobMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	start := time.Now()
	defer func() {
		r := recover()
		outcome := jobOutcome(job, err)
		if r != nil {
			outcome = "panicked"
		}
		m.set.jobs.WithLabelValues(job.Kind, outcome).Inc()
		m.set.jobDuration.WithLabelValues(job.Kind, outcome).Observe(time.Since(start).Seconds())
		if r != nil {
			panic(r) // River's executor recovers it and retries the job
		}
	}()
	return doInner(WithSet(ctx, m.set))
}

// jobOutcome names what River does with a job after this attempt.
func jobOutcome(job *rivertype.JobRow, err error) string {
	var snooze *rivertype.JobSnoozeError
	var cancel *rivertype.JobCancelError
	switch {
	case err == nil:
		return "completed"
	case errors.As(err, &snooze):
		return "snoozed"
	case errors.As(err, &cancel):
		return "cancelled"
	case job.Attempt >= job.MaxAttempts:
		return "discarded"
	}
	return "retryable"
}
