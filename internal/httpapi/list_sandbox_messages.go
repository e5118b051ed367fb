package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// ListSandboxMessages is not built yet.
func (s *Server) ListSandboxMessages(_ context.Context, _ api.ListSandboxMessagesRequestObject) (api.ListSandboxMessagesResponseObject, error) {
	return nil, notImplemented("listSandboxMessages")
}
