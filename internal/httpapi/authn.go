package httpapi

// Placeholder until issue 3's authentication lands (internal/auth); the
// auth work replaces this whole file.

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/feddi/partner-api/internal/platform/apierror"
	"github.com/feddi/partner-api/internal/platform/spec"
)

func (s *Server) authenticate(_ echo.Context, _ *spec.Operation) (context.Context, error) {
	return nil, apierror.New(apierror.Unauthenticated, "credentials are not accepted yet")
}

func (s *Server) idempotencyScope(_ context.Context) string { return "" }
