package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/feddi/partner-api/internal/app"
	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/webhooks"
)

// bootstrapCmd creates a merchant, an integration and a first API key with
// every scope and role operator, and prints the raw key once. It does not
// migrate: run `feddi migrate` first.
func bootstrapCmd(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	merchant := fs.String("merchant", "", "merchant name (required)")
	integration := fs.String("integration", "", "integration name (required)")
	asJSON := fs.Bool("json", false, "print one JSON object {merchant_id, integration_id, key_id, api_key}")
	ifEmpty := fs.Bool("if-empty", false, "do nothing (and say so) when a merchant already exists")
	fs.Usage = func() {
		_, _ = fmt.Fprintln(fs.Output(), "usage: feddi bootstrap --merchant NAME --integration NAME [--json] [--if-empty]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *merchant == "" || *integration == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("bootstrap needs --merchant and --integration")
	}
	svc, pool, err := authService(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()

	var out auth.Bootstrapped
	created := true
	if *ifEmpty {
		out, created, err = svc.BootstrapIfEmpty(ctx, *merchant, *integration)
	} else {
		out, err = svc.Bootstrap(ctx, *merchant, *integration)
	}
	if err != nil {
		return fmt.Errorf("bootstrapping: %w", err)
	}
	return printBootstrap(os.Stdout, cfg, out, created, *asJSON)
}

func printBootstrap(w io.Writer, cfg config.Config, out auth.Bootstrapped, created, asJSON bool) error {
	if !created {
		if asJSON {
			return json.NewEncoder(w).Encode(map[string]any{"created": false})
		}
		_, err := fmt.Fprintln(w, "bootstrap: a merchant already exists; nothing created (the demo key was printed when it was made)")
		return err
	}
	if asJSON {
		return json.NewEncoder(w).Encode(map[string]string{
			"merchant_id":    out.Merchant.ID,
			"integration_id": out.Integration.ID,
			"key_id":         out.Key.Key.ID,
			"api_key":        out.Key.Secret,
		})
	}
	_, err := fmt.Fprintf(w, `Created merchant %s (%s), integration %s (%s).

API key %s (role operator, every scope but qr:mint: the back office's and the
tills' key). It is shown this once; store it now:

    %s

Try it:

    curl -s -H 'X-Api-Key: %s' http://%s/capabilities

A key never holds qr:mint with payments:write or payments:refund: create the
customer's wallet app its own key with POST /auth/keys and "scopes": ["qr:mint"]
(docs/authentication.md, consent rule).

`, out.Merchant.ID, out.Merchant.Name, out.Integration.ID, out.Integration.Name,
		out.Key.Key.ID, out.Key.Secret, out.Key.Secret, cfg.Addr)
	return err
}

const keysUsage = `usage:
  feddi keys rotate-signing [--revoke-previous]
      make a new JWT signing key current; --revoke-previous also kills every
      retired key at once (a leak): tokens they signed fail on every replica
  feddi keys rotate-kek
      re-seal every signing key with FEDDI_KEK, opening them with
      FEDDI_KEK_PREVIOUS (the key-encryption key being replaced)`

// keysCmd manages the JWT signing keys and the key-encryption key that
// seals them at rest.
func keysCmd(ctx context.Context, cfg config.Config, logger *slog.Logger, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(keysUsage)
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	revokePrevious := fs.Bool("revoke-previous", false, "kill every retired signing key at once")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		return errors.New(keysUsage)
	}
	switch {
	case args[0] == "rotate-signing":
		return rotateSigning(ctx, cfg, logger, *revokePrevious, out)
	case args[0] == "rotate-kek" && !*revokePrevious:
		return rotateKEK(ctx, cfg, logger, out)
	}
	return errors.New(keysUsage)
}

func rotateSigning(ctx context.Context, cfg config.Config, logger *slog.Logger, revokePrevious bool, out io.Writer) error {
	svc, pool, err := authService(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	if revokePrevious {
		kid, err := svc.RotateSigningKeyRevokingPrevious(ctx)
		if err != nil {
			return fmt.Errorf("rotating the signing key: %w", err)
		}
		_, err = fmt.Fprintf(out, "New signing key %s is current. Every previous signing key is revoked: tokens they signed\nare refused now on every replica, and they have left /.well-known/jwks.json. Terminals must mint new tokens.\n", kid)
		return err
	}
	kid, err := svc.RotateSigningKey(ctx)
	if err != nil {
		return fmt.Errorf("rotating the signing key: %w", err)
	}
	_, err = fmt.Fprintf(out, "New signing key %s is current. Tokens signed by the previous key stay valid until they expire;\nthe previous key stays in /.well-known/jwks.json for %s.\n", kid, auth.RetiredKeyGrace)
	return err
}

func rotateKEK(ctx context.Context, cfg config.Config, logger *slog.Logger, out io.Writer) error {
	if cfg.KEK == nil {
		return errors.New("rotate-kek needs FEDDI_KEK (the new key-encryption key) and, unless moving off the sandbox development KEK, FEDDI_KEK_PREVIOUS (the old one)")
	}
	svc, pool, err := authService(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := svc.RotateKEK(ctx)
	if err != nil {
		return fmt.Errorf("rotating the key-encryption key: %w", err)
	}
	// Webhook endpoint secrets are sealed with the same KEK.
	endpoints, err := webhooks.Reseal(ctx, pool, svc)
	if err != nil {
		return fmt.Errorf("re-sealing webhook secrets: %w", err)
	}
	if _, err = fmt.Fprintf(out, "Re-sealed the secrets of %d webhook endpoints.\n", endpoints); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "Re-sealed %d signing keys with FEDDI_KEK. Remove FEDDI_KEK_PREVIOUS from every replica once all run with the new FEDDI_KEK.\n", n)
	return err
}

func authService(ctx context.Context, cfg config.Config, logger *slog.Logger) (*auth.Service, *pgxpool.Pool, error) {
	doc, err := app.LoadSpec()
	if err != nil {
		return nil, nil, err
	}
	app.UseEventRenderer(doc) // key changes record events, as in serve
	pool, err := connect(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	svc, err := auth.NewFromConfig(pool, cfg, doc, logger, time.Now) // the CLI reads the wall clock
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return svc, pool, nil
}
