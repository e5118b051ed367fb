package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// CreateTerminalToken is not built yet.
func (s *Server) CreateTerminalToken(_ context.Context, _ api.CreateTerminalTokenRequestObject) (api.CreateTerminalTokenResponseObject, error) {
	return nil, notImplemented("createTerminalToken")
}
