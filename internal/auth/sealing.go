package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
)

// sealPlaintextKeys seals the signing keys written before encryption at
// rest, so their private halves leave the table in the clear. It runs under
// the signing-key lock, inside the caller's transaction.
func (s *Service) sealPlaintextKeys(ctx context.Context, q *db.Queries) error {
	rows, err := q.SigningKeyListUnsealed(ctx)
	if err != nil {
		return fmt.Errorf("listing plaintext signing keys: %w", err)
	}
	for _, row := range rows {
		if err := s.reseal(ctx, q, row.Kid, row.PrivateKey); err != nil {
			return err
		}
	}
	if len(rows) > 0 {
		s.logger.InfoContext(ctx, "sealed signing keys stored in plaintext", "count", len(rows))
	}
	return nil
}

// RotateKEK re-seals every signing key with the current KEK (FEDDI_KEK),
// opening each with whichever configured KEK sealed it (FEDDI_KEK_PREVIOUS
// during a rotation), in one transaction: either every key moves to the new
// KEK or none does. It returns how many keys it re-sealed. Once it has run,
// FEDDI_KEK_PREVIOUS can be removed from every replica.
func (s *Service) RotateKEK(ctx context.Context) (int, error) {
	if s.keyring.development {
		return 0, errors.New("set FEDDI_KEK to the new key-encryption key (and FEDDI_KEK_PREVIOUS to the old one) to rotate")
	}
	return dbx.InTxValue(ctx, s.pool, func(ctx context.Context, q *db.Queries) (int, error) {
		if err := q.SigningKeyLock(ctx); err != nil {
			return 0, fmt.Errorf("locking signing keys: %w", err)
		}
		rows, err := q.SigningKeyListForUpdate(ctx)
		if err != nil {
			return 0, fmt.Errorf("listing signing keys: %w", err)
		}
		for _, row := range rows {
			der := row.PrivateKey
			if row.SealedPrivateKey != nil {
				if der, err = s.keyring.open(row.Kid, row.SealedPrivateKey); err != nil {
					return 0, err
				}
			}
			if err := s.reseal(ctx, q, row.Kid, der); err != nil {
				return 0, err
			}
		}
		return len(rows), nil
	})
}

func (s *Service) reseal(ctx context.Context, q *db.Queries, kid string, der []byte) error {
	sealed, err := s.keyring.seal(kid, der)
	if err != nil {
		return fmt.Errorf("sealing signing key %s: %w", kid, err)
	}
	if err := q.SigningKeySeal(ctx, db.SigningKeySealParams{Kid: kid, SealedPrivateKey: sealed}); err != nil {
		return fmt.Errorf("storing sealed signing key %s: %w", kid, err)
	}
	return nil
}

// Seal encrypts another package's secret at rest with the KEK, as signing
// keys are (AES-256-GCM); aad binds it to its row (its id), so a sealed
// value copied onto another row does not open. Webhook endpoint secrets
// use it.
func (s *Service) Seal(aad string, plaintext []byte) ([]byte, error) {
	return s.keyring.seal(aad, plaintext)
}

// Open decrypts what Seal sealed, with the current KEK or a previous one.
func (s *Service) Open(aad string, sealed []byte) ([]byte, error) {
	return s.keyring.open(aad, sealed)
}
