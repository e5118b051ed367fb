package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// GetJwks publishes the public keys that verify terminal JWTs.
func (s *Server) GetJwks(ctx context.Context, _ api.GetJwksRequestObject) (api.GetJwksResponseObject, error) {
	keys, err := s.Auth.JWKS(ctx)
	if err != nil {
		return nil, err
	}
	out := api.GetJwks200JSONResponse{Keys: make([]api.Jwk, len(keys))}
	for i, k := range keys {
		y := k.Y
		out.Keys[i] = api.Jwk{
			Kty: api.JwkKty(k.Kty), Crv: api.JwkCrv(k.Crv), X: k.X, Y: &y,
			Kid: k.Kid, Alg: api.JwkAlg(k.Alg), Use: api.JwkUse(k.Use),
		}
	}
	return out, nil
}
