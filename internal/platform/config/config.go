// Package config reads the service's settings from environment variables,
// the only place they come from (see the README's Configuration table).
package config

import (
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment is sandbox or live.
type Environment string

// The two environments of the contract.
const (
	Sandbox Environment = "sandbox"
	Live    Environment = "live"
)

// Pooler names what sits between the service and PostgreSQL
// (FEDDI_DATABASE_POOLER).
type Pooler string

// The poolers the service knows how to run behind.
const (
	// NoPooler: DATABASE_URL reaches PostgreSQL itself (or a pooler in
	// session mode, which keeps a server connection per client).
	NoPooler Pooler = "none"
	// PgBouncer in transaction pooling mode: a server connection is the
	// client's for one transaction only, so the service keeps no session
	// state there: no named prepared statements, no LISTEN
	// (docs/scale-out.md).
	PgBouncer Pooler = "pgbouncer"
)

// Config is every setting of the service.
type Config struct {
	DatabaseURL string
	Addr        string
	// AdminAddr is the operators' listener (FEDDI_ADMIN_ADDR): /metrics,
	// /livez, /readyz, /debug/pprof/. Empty turns it off. Tracing is
	// configured by the standard OTEL_* variables (internal/platform/tracing).
	AdminAddr            string
	Env                  Environment
	LogLevel             string
	IdempotencyRetention time.Duration
	ValidateResponses    bool
	ShutdownTimeout      time.Duration
	JWTIssuer            string
	JWTAudience          string
	SMSSender            string
	SMSWebhookURL        string
	// SMSWebhookSecret signs the webhook sender's requests (Standard
	// Webhooks, FEDDI_SMS_WEBHOOK_SECRET: "whsec_" + base64).
	SMSWebhookSecret string
	// KEK is the key-encryption key that seals JWT signing keys at rest
	// (FEDDI_KEK, 32 bytes); nil when unset, which only sandbox accepts.
	KEK []byte
	// KEKPrevious is the KEK being rotated away from (FEDDI_KEK_PREVIOUS):
	// keys sealed with it still open until `feddi keys rotate-kek` has run.
	KEKPrevious []byte
	// Guess limits (FEDDI_GUESS_LIMIT_*): wrong credentials per terminal,
	// and the ceilings per API key and per merchant.
	GuessLimitPerTerminal Rate
	GuessLimitPerKey      Rate
	GuessLimitPerMerchant Rate
	// LookupLimitPerTerminal (FEDDI_LOOKUP_LIMIT_PER_TERMINAL) bounds the
	// customer lookups by phone of one terminal, found or not.
	LookupLimitPerTerminal Rate
	// SMS caps (FEDDI_SMS_LIMIT_*): SMS sent per integration, in all and
	// to one country calling code.
	SMSLimitPerIntegration Rate
	SMSLimitPerCountry     Rate
	// How often the periodic jobs run (FEDDI_*_INTERVAL): the grant expiry
	// sweep, the payment authorization expiry sweep, and the purges of old
	// idempotency keys, SMS and payment credentials (QR tokens, OTP
	// challenges). River runs them on the elected leader only.
	GrantSweepInterval         time.Duration
	PaymentExpirySweepInterval time.Duration
	IdempotencyPurgeInterval   time.Duration
	SMSPurgeInterval           time.Duration
	EventPurgeInterval         time.Duration
	CredentialPurgeInterval    time.Duration
	// WebhookRetryBase is the wait after a webhook delivery's first
	// failure, doubled per failure up to 12 hours, for three days
	// (FEDDI_WEBHOOK_RETRY_BASE).
	WebhookRetryBase time.Duration
	// DatabasePooler is what DatabaseURL goes through
	// (FEDDI_DATABASE_POOLER).
	DatabasePooler Pooler
	// DatabaseDirectURL (DATABASE_DIRECT_URL) reaches PostgreSQL without
	// the pooler, for `feddi migrate`; unset, DatabaseURL serves for
	// everything but migrations behind PgBouncer.
	DatabaseDirectURL string
}

// Rate is Max events per Window, written "10/1m" in the environment.
type Rate struct {
	Max    int
	Window time.Duration
}

// Defaults is the configuration when no variable is set.
func Defaults() Config {
	return Config{
		Addr:                 "127.0.0.1:8080",
		AdminAddr:            "127.0.0.1:9090",
		Env:                  Sandbox,
		LogLevel:             "info",
		IdempotencyRetention: 24 * time.Hour,
		ShutdownTimeout:      15 * time.Second,
		JWTIssuer:            "feddi-partner-api",
		JWTAudience:          "feddi-pos",
		SMSSender:            "log",
		// Defaults documented in README.md and in the document's
		// Conventions (rate limits): a busy till makes a few wrong scans
		// a minute at most; an attacker inventing terminal ids meets the
		// key's ceiling.
		GuessLimitPerTerminal: Rate{Max: 10, Window: time.Minute},
		GuessLimitPerKey:      Rate{Max: 50, Window: time.Minute},
		GuessLimitPerMerchant: Rate{Max: 1000, Window: time.Minute},
		// A till looks up a customer or two a minute; sweeping numbers
		// takes thousands.
		LookupLimitPerTerminal: Rate{Max: 30, Window: time.Minute},
		// Enrollment and payment codes of a busy integration stay well
		// below; an SMS pumping attack is capped in what it costs.
		SMSLimitPerIntegration: Rate{Max: 200, Window: time.Hour},
		SMSLimitPerCountry:     Rate{Max: 100, Window: time.Hour},
		// Expiries are due to the minute (a grant's expiry, a payment's
		// authorization); purges of long-dead rows can wait an hour.
		GrantSweepInterval:         time.Minute,
		PaymentExpirySweepInterval: time.Minute,
		IdempotencyPurgeInterval:   time.Hour,
		SMSPurgeInterval:           time.Hour,
		EventPurgeInterval:         time.Hour,
		CredentialPurgeInterval:    time.Hour,
		WebhookRetryBase:           30 * time.Second,
		DatabasePooler:             NoPooler,
	}
}

// Load reads the environment over the defaults.
func Load() (Config, error) {
	d := Defaults()
	c := Config{
		DatabaseURL:   os.Getenv("DATABASE_URL"),
		Addr:          getenv("FEDDI_ADDR", d.Addr),
		AdminAddr:     d.AdminAddr,
		Env:           Environment(getenv("FEDDI_ENV", string(d.Env))),
		LogLevel:      getenv("FEDDI_LOG_LEVEL", d.LogLevel),
		JWTIssuer:     getenv("FEDDI_JWT_ISSUER", d.JWTIssuer),
		JWTAudience:   getenv("FEDDI_JWT_AUDIENCE", d.JWTAudience),
		SMSSender:     getenv("FEDDI_SMS_SENDER", d.SMSSender),
		SMSWebhookURL: os.Getenv("FEDDI_SMS_WEBHOOK_URL"),
		// The secret is checked where it is used (sms.NewWebhookSender).
		SMSWebhookSecret: os.Getenv("FEDDI_SMS_WEBHOOK_SECRET"),
	}
	c.DatabasePooler = Pooler(getenv("FEDDI_DATABASE_POOLER", string(d.DatabasePooler)))
	c.DatabaseDirectURL = os.Getenv("DATABASE_DIRECT_URL")
	if v, ok := os.LookupEnv("FEDDI_ADMIN_ADDR"); ok {
		c.AdminAddr = v // set and empty: no admin listener
	}
	var err error
	if c.IdempotencyRetention, err = duration("FEDDI_IDEMPOTENCY_RETENTION", d.IdempotencyRetention); err != nil {
		return c, err
	}
	if c.ShutdownTimeout, err = duration("FEDDI_SHUTDOWN_TIMEOUT", d.ShutdownTimeout); err != nil {
		return c, err
	}
	for _, i := range []struct {
		name string
		dst  *time.Duration
		def  time.Duration
	}{
		{"FEDDI_GRANT_SWEEP_INTERVAL", &c.GrantSweepInterval, d.GrantSweepInterval},
		{"FEDDI_PAYMENT_EXPIRY_SWEEP_INTERVAL", &c.PaymentExpirySweepInterval, d.PaymentExpirySweepInterval},
		{"FEDDI_IDEMPOTENCY_PURGE_INTERVAL", &c.IdempotencyPurgeInterval, d.IdempotencyPurgeInterval},
		{"FEDDI_SMS_PURGE_INTERVAL", &c.SMSPurgeInterval, d.SMSPurgeInterval},
		{"FEDDI_EVENT_PURGE_INTERVAL", &c.EventPurgeInterval, d.EventPurgeInterval},
		{"FEDDI_CREDENTIAL_PURGE_INTERVAL", &c.CredentialPurgeInterval, d.CredentialPurgeInterval},
		{"FEDDI_WEBHOOK_RETRY_BASE", &c.WebhookRetryBase, d.WebhookRetryBase},
	} {
		if *i.dst, err = duration(i.name, i.def); err != nil {
			return c, err
		}
	}
	for _, r := range []struct {
		name string
		dst  *Rate
		def  Rate
	}{
		{"FEDDI_GUESS_LIMIT_PER_TERMINAL", &c.GuessLimitPerTerminal, d.GuessLimitPerTerminal},
		{"FEDDI_GUESS_LIMIT_PER_KEY", &c.GuessLimitPerKey, d.GuessLimitPerKey},
		{"FEDDI_GUESS_LIMIT_PER_MERCHANT", &c.GuessLimitPerMerchant, d.GuessLimitPerMerchant},
		{"FEDDI_LOOKUP_LIMIT_PER_TERMINAL", &c.LookupLimitPerTerminal, d.LookupLimitPerTerminal},
		{"FEDDI_SMS_LIMIT_PER_INTEGRATION", &c.SMSLimitPerIntegration, d.SMSLimitPerIntegration},
		{"FEDDI_SMS_LIMIT_PER_COUNTRY", &c.SMSLimitPerCountry, d.SMSLimitPerCountry},
	} {
		if *r.dst, err = rate(r.name, r.def); err != nil {
			return c, err
		}
	}
	if c.ValidateResponses, err = boolean("FEDDI_VALIDATE_RESPONSES", false); err != nil {
		return c, err
	}
	if c.KEK, err = key32("FEDDI_KEK"); err != nil {
		return c, err
	}
	if c.KEKPrevious, err = key32("FEDDI_KEK_PREVIOUS"); err != nil {
		return c, err
	}
	if c.DatabasePooler != NoPooler && c.DatabasePooler != PgBouncer {
		return c, fmt.Errorf("FEDDI_DATABASE_POOLER must be none or pgbouncer, got %q", c.DatabasePooler)
	}
	if c.Env != Sandbox && c.Env != Live {
		return c, fmt.Errorf("FEDDI_ENV must be sandbox or live, got %q", c.Env)
	}
	return c, nil
}

// key32 reads a base64 (standard or URL alphabet, padded or not) 32-byte
// key; nil when the variable is unset. The value never appears in an error.
func key32(name string) ([]byte, error) {
	v := os.Getenv(name)
	if v == "" {
		return nil, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("%s must be 32 bytes in base64 (openssl rand -base64 32), got %d bytes", name, len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s must be 32 bytes in base64 (openssl rand -base64 32); it is not base64", name)
}

// RequireDatabase fails when DATABASE_URL is missing.
func (c Config) RequireDatabase() error {
	if c.DatabaseURL == "" {
		return fmt.Errorf("DATABASE_URL is not set (make run starts a private PostgreSQL and sets it)")
	}
	return nil
}

// MigrationURL is where `feddi migrate` connects: DATABASE_DIRECT_URL when
// set. Behind PgBouncer it must be set: a migration is one operator's
// session of DDL holding strong locks, which a transaction pooler would
// queue behind its replicas' traffic or cut with its timeouts.
func (c Config) MigrationURL() (string, error) {
	if c.DatabaseDirectURL != "" {
		return c.DatabaseDirectURL, nil
	}
	if c.DatabasePooler == PgBouncer {
		return "", fmt.Errorf("FEDDI_DATABASE_POOLER=pgbouncer: set DATABASE_DIRECT_URL to PostgreSQL itself for feddi migrate (migrations do not run through a transaction pooler)")
	}
	if err := c.RequireDatabase(); err != nil {
		return "", err
	}
	return c.DatabaseURL, nil
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func duration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s must be a positive duration such as 24h, got %q", name, v)
	}
	return d, nil
}

// rate reads "MAX/WINDOW", e.g. "10/1m": at least 1 event per at least a
// second.
func rate(name string, def Rate) (Rate, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	maxText, windowText, ok := strings.Cut(v, "/")
	n, nErr := strconv.Atoi(maxText)
	w, wErr := time.ParseDuration(windowText)
	if !ok || nErr != nil || wErr != nil || n < 1 || w < time.Second {
		return Rate{}, fmt.Errorf("%s must be MAX/WINDOW such as 10/1m (at least 1 per second or longer), got %q", name, v)
	}
	return Rate{Max: n, Window: w}, nil
}

func boolean(name string, def bool) (bool, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false, got %q", name, v)
	}
	return b, nil
}
