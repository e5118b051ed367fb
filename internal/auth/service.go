package auth

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/internal/platform/clock"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/spec"
)

// Config is what the service needs besides the database.
type Config struct {
	// Issuer and Audience go into every terminal JWT and are required of
	// every JWT presented (config.Config.JWTIssuer / JWTAudience).
	Issuer   string
	Audience string
	// Environment tags raw API keys (feddi_test_… in sandbox, feddi_live_…
	// in live) so a key pasted into the wrong environment is obvious.
	Environment config.Environment
	// Scopes is every scope of the document's Scope enum (ScopesOf), in the
	// document's order. It is the one list of scopes.
	Scopes []string
	// Now is the clock of token issue and validation; time.Now when nil.
	Now func() time.Time
	// Logger receives failures that do not fail a request (recording a
	// key's last use). Secrets never reach it.
	Logger *slog.Logger
	// KEK seals signing private keys at rest (config.Config.KEK); required
	// in live. A sandbox without it uses a public development KEK.
	KEK []byte
	// KEKPrevious still opens keys sealed before a KEK rotation.
	KEKPrevious []byte
}

// Service is the tenancy and authentication domain.
type Service struct {
	pool   *pgxpool.Pool
	cfg    Config
	now    func() time.Time
	logger *slog.Logger
	// keys caches parsed signing keys by kid. A kid's key material never
	// changes, so entries never go stale. Whether a kid may still verify
	// (retired too long ago, or killed) and which key is current are read
	// from the database on every use, never cached: see verificationKey.
	keys sync.Map // kid → *signingKey
	// touching holds the keys whose last use is being recorded (touch).
	touching sync.Map // key id → true
	// keyring seals and opens the signing keys' private halves.
	keyring *keyring
}

// New returns the service.
func New(pool *pgxpool.Pool, cfg Config) (*Service, error) {
	switch {
	case pool == nil:
		return nil, errors.New("auth: a database pool is required")
	case cfg.Issuer == "" || cfg.Audience == "":
		return nil, errors.New("auth: the JWT issuer and audience are required")
	case len(cfg.Scopes) == 0:
		return nil, errors.New("auth: the list of scopes is required (auth.ScopesOf)")
	}
	if cfg.Environment == "" {
		cfg.Environment = config.Sandbox
	}
	if cfg.Environment != config.Sandbox && cfg.Environment != config.Live {
		return nil, fmt.Errorf("auth: unknown environment %q", cfg.Environment)
	}
	kr, err := newKeyring(cfg.Environment, cfg.KEK, cfg.KEKPrevious)
	if err != nil {
		return nil, err
	}
	s := &Service{pool: pool, cfg: cfg, now: cfg.Now, logger: cfg.Logger, keyring: kr}
	s.now = clock.OrWall(s.now)
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if kr.development {
		s.logger.Warn("FEDDI_KEK is not set: JWT signing keys are sealed with the PUBLIC sandbox development KEK. " +
			"Fine for a laptop, never for shared data; live refuses to start without FEDDI_KEK (see docs/authentication.md)")
	}
	return s, nil
}

// Scopes is every scope there is, in the document's order.
func (s *Service) Scopes() []string { return slices.Clone(s.cfg.Scopes) }

// ScopesOf reads the scopes from the document's Scope enum schema, the one
// place they are listed.
func ScopesOf(doc *spec.Spec) ([]string, error) {
	ref := doc.Doc.Components.Schemas["Scope"]
	if ref == nil || ref.Value == nil || len(ref.Value.Enum) == 0 {
		return nil, errors.New("auth: the document has no Scope enum schema")
	}
	out := make([]string, 0, len(ref.Value.Enum))
	for _, v := range ref.Value.Enum {
		s, ok := v.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("auth: Scope enum value %v is not a string", v)
		}
		out = append(out, s)
	}
	return out, nil
}

// canonicalScopes checks that every scope is known and returns them without
// repeats, in the document's order. scope names one element of the input
// list ("[]").
func (s *Service) canonicalScopes(scope fielderr.Field, scopes []string) ([]string, error) {
	for i, sc := range scopes {
		if !slices.Contains(s.cfg.Scopes, sc) {
			return nil, invalid(scope, "is not a known scope").At(i)
		}
	}
	out := make([]string, 0, len(scopes))
	for _, sc := range s.cfg.Scopes {
		if slices.Contains(scopes, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// missingScopes returns the scopes of want that have does not hold.
func missingScopes(have, want []string) []string {
	var out []string
	for _, sc := range want {
		if !slices.Contains(have, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// NewFromConfig builds the service the way the binary runs it: issuer,
// audience and environment from the configuration, the scopes from the
// document, the time from now (the app's clock).
func NewFromConfig(pool *pgxpool.Pool, cfg config.Config, doc *spec.Spec, logger *slog.Logger, now func() time.Time) (*Service, error) {
	scopes, err := ScopesOf(doc)
	if err != nil {
		return nil, err
	}
	return New(pool, Config{
		Issuer:      cfg.JWTIssuer,
		Audience:    cfg.JWTAudience,
		Environment: cfg.Env,
		Scopes:      scopes,
		Logger:      logger,
		Now:         now,
		KEK:         cfg.KEK,
		KEKPrevious: cfg.KEKPrevious,
	})
}
