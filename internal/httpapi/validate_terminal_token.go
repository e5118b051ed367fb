package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ValidateTerminalToken is not built yet.
func (s *Server) ValidateTerminalToken(_ context.Context, _ api.ValidateTerminalTokenRequestObject) (api.ValidateTerminalTokenResponseObject, error) {
	return nil, notImplemented("validateTerminalToken")
}
