package dbx_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/dbx"
)

func TestParsePoolConfig(t *testing.T) {
	const url = "postgres://u@127.0.0.1:6432/feddi?sslmode=disable"
	mode := func(t *testing.T, url string, p config.Pooler) pgx.QueryExecMode {
		t.Helper()
		cfg, err := dbx.ParsePoolConfig(url, p)
		require.NoError(t, err)
		return cfg.ConnConfig.DefaultQueryExecMode
	}
	t.Run("DirectKeepsPgxDefault", func(t *testing.T) {
		require.Equal(t, pgx.QueryExecModeCacheStatement, mode(t, url, config.NoPooler))
	})
	t.Run("PgBouncerCachesDescriptionsOnly", func(t *testing.T) {
		require.Equal(t, pgx.QueryExecModeCacheDescribe, mode(t, url, config.PgBouncer))
	})
	t.Run("PgBouncerKeepsANamedSafeMode", func(t *testing.T) {
		require.Equal(t, pgx.QueryExecModeExec, mode(t, url+"&default_query_exec_mode=exec", config.PgBouncer))
		require.Equal(t, pgx.QueryExecModeSimpleProtocol, mode(t, url+"&default_query_exec_mode=simple_protocol", config.PgBouncer))
	})
	t.Run("PgBouncerRefusesModesThatNeedASession", func(t *testing.T) {
		for _, m := range []string{"cache_statement", "describe_exec"} {
			_, err := dbx.ParsePoolConfig(url+"&default_query_exec_mode="+m, config.PgBouncer)
			require.ErrorContains(t, err, "PgBouncer", m)
		}
	})
}
