package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
)

// MintQr mints a fresh QR payload and short code for a verified wallet.
func (s *Server) MintQr(ctx context.Context, req api.MintQrRequestObject) (api.MintQrResponseObject, error) {
	m, err := s.QR.Mint(ctx, principal(ctx).MerchantID, req.Body.Data.WalletId)
	if err != nil {
		return nil, err
	}
	return api.MintQr200JSONResponse{Ok: true, Meta: s.meta(ctx), Data: api.MintedQr{
		QrPayload: &m.Payload, QrExpiresAt: m.PayloadExpiresAt,
		ShortCode: &m.ShortCode, ShortCodeExpiresAt: m.ShortCodeExpiresAt, SecretRedacted: false,
	}}, nil
}
