package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/platform/apierror"
)

// GetHealth reports liveness and readiness; 503 when the database is down.
func (s *Server) GetHealth(ctx context.Context, _ api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	up, degraded := s.Health.Check(ctx)
	subsystems := make([]api.HealthSubsystem, len(degraded))
	for i, d := range degraded {
		subsystems[i] = api.HealthSubsystem(d)
	}
	if !up {
		return nil, apierror.New(apierror.ServiceUnavailable, "the service cannot reach its database").
			WithDetails(map[string]any{"status": api.HealthStatusDown, "degraded_subsystems": subsystems})
	}
	status := api.HealthStatusOk
	if len(degraded) > 0 {
		status = api.HealthStatusDegraded
	}
	return api.GetHealth200JSONResponse{
		Ok:   true,
		Data: api.HealthData{Status: status, DegradedSubsystems: subsystems, CheckedAt: s.Now().UTC()},
		Meta: s.meta(ctx),
	}, nil
}
