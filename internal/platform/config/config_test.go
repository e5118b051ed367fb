package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/config"
)

func TestJobIntervals(t *testing.T) {
	t.Run("DefaultToTheDocumentedValues", func(t *testing.T) {
		c, err := config.Load()
		require.NoError(t, err)
		require.Equal(t, time.Minute, c.GrantSweepInterval)
		require.Equal(t, time.Minute, c.PaymentExpirySweepInterval)
		require.Equal(t, time.Hour, c.IdempotencyPurgeInterval)
		require.Equal(t, time.Hour, c.SMSPurgeInterval)
		require.Equal(t, time.Hour, c.CredentialPurgeInterval)
	})

	t.Run("ReadTheEnvironment", func(t *testing.T) {
		t.Setenv("FEDDI_GRANT_SWEEP_INTERVAL", "30s")
		t.Setenv("FEDDI_CREDENTIAL_PURGE_INTERVAL", "6h")
		c, err := config.Load()
		require.NoError(t, err)
		require.Equal(t, 30*time.Second, c.GrantSweepInterval)
		require.Equal(t, 6*time.Hour, c.CredentialPurgeInterval)
	})

	t.Run("RefuseANonPositiveInterval", func(t *testing.T) {
		for _, v := range []string{"0s", "-1m", "soon"} {
			t.Setenv("FEDDI_SMS_PURGE_INTERVAL", v)
			_, err := config.Load()
			require.ErrorContains(t, err, "FEDDI_SMS_PURGE_INTERVAL")
		}
	})
}

func TestDatabasePooler(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://pooled")
	t.Run("DirectByDefault", func(t *testing.T) {
		c, err := config.Load()
		require.NoError(t, err)
		require.Equal(t, config.NoPooler, c.DatabasePooler)
		url, err := c.MigrationURL()
		require.NoError(t, err)
		require.Equal(t, "postgres://pooled", url)
	})
	t.Run("MigrationsNeedTheDirectURLBehindPgBouncer", func(t *testing.T) {
		t.Setenv("FEDDI_DATABASE_POOLER", "pgbouncer")
		c, err := config.Load()
		require.NoError(t, err)
		_, err = c.MigrationURL()
		require.ErrorContains(t, err, "DATABASE_DIRECT_URL")
		t.Setenv("DATABASE_DIRECT_URL", "postgres://direct")
		c, err = config.Load()
		require.NoError(t, err)
		url, err := c.MigrationURL()
		require.NoError(t, err)
		require.Equal(t, "postgres://direct", url)
	})
	t.Run("RefusesAnUnknownPooler", func(t *testing.T) {
		t.Setenv("FEDDI_DATABASE_POOLER", "pgpool")
		_, err := config.Load()
		require.ErrorContains(t, err, "FEDDI_DATABASE_POOLER")
	})
}
