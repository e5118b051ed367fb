package migrate_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/platform/migrate"
	"github.com/feddi/partner-api/internal/platform/testdb"
)

// TestSchemaIsShardableByMerchant holds the migrated schema, on plain
// PostgreSQL, to what Citus needs to put each merchant's rows on one shard
// (docs/operations.md, "Past one database"). A new table breaking a rule
// fails here, not on the first Citus deployment.
func TestSchemaIsShardableByMerchant(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	require.Empty(t, shardingProblems(t, pool))
}

// TestShardingRulesCatchPlantedTables: each rule fails on a table breaking it.
func TestShardingRulesCatchPlantedTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	for _, stmt := range []string{
		`CREATE TABLE planted_no_merchant (id text PRIMARY KEY)`,
		`CREATE TABLE planted_v_2 (merchant_id text NOT NULL, id text, PRIMARY KEY (merchant_id, id))`,
		`CREATE TABLE planted_id_first (merchant_id text NOT NULL, id text, PRIMARY KEY (id, merchant_id))`,
		`CREATE TABLE planted_nullable (merchant_id text, id text, PRIMARY KEY (id))`,
		`CREATE TABLE planted_unique (merchant_id text NOT NULL, id text, code text, PRIMARY KEY (merchant_id, id))`,
		`CREATE UNIQUE INDEX planted_unique_code ON planted_unique (code) WHERE code IS NOT NULL`,
		`CREATE TABLE planted_fk (merchant_id text NOT NULL, id text, wallet_id text REFERENCES planted_unique_wallets (id), PRIMARY KEY (merchant_id, id))`,
		`CREATE FUNCTION planted_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO river_job (args, kind) VALUES ('{}', 'x'); RETURN NULL; END $$`,
		`CREATE TRIGGER planted_enqueue AFTER INSERT ON planted_unique FOR EACH ROW EXECUTE FUNCTION planted_enqueue()`,
	} {
		if strings.Contains(stmt, "planted_unique_wallets") {
			_, err := pool.Exec(ctx, `CREATE TABLE planted_unique_wallets (merchant_id text NOT NULL, id text UNIQUE, PRIMARY KEY (merchant_id, id))`)
			require.NoError(t, err)
		}
		_, err := pool.Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	problems := strings.Join(shardingProblems(t, pool), "\n")
	for _, want := range []string{
		"planted_no_merchant: no merchant_id column",
		"table planted_v_2: ends in _<digits>",
		"planted_id_first: primary key (id, merchant_id) does not start with merchant_id",
		"planted_nullable: merchant_id may be NULL",
		"planted_nullable: primary key (id) does not start with merchant_id",
		"planted_unique: unique index planted_unique_code (code) does not start with merchant_id",
		"planted_unique_wallets: unique index planted_unique_wallets_id_key (id) does not start with merchant_id",
		"planted_fk: foreign key planted_fk_wallet_id_fkey (wallet_id) -> planted_unique_wallets (id) does not pair merchant_id first",
		"planted_unique: trigger planted_enqueue runs planted_enqueue, which names river_job (a shard has no River table)",
	} {
		require.Contains(t, problems, want)
	}
}

// shardingProblems lists every way the public tables break the placement
// rules of migrate.PlacementOf.
func shardingProblems(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	ctx := context.Background()
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	type table struct {
		name        string
		hasMerchant bool
		notNull     bool
	}
	tables, err := collect(ctx, pool, `
		SELECT c.relname, a.attname IS NOT NULL, coalesce(a.attnotnull, false)
		FROM pg_class c
		LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'merchant_id' AND NOT a.attisdropped
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
		  AND NOT `+isShard("c.relname")+`
		ORDER BY 1`, func(r pgx.CollectableRow) (table, error) {
		var tb table
		return tb, r.Scan(&tb.name, &tb.hasMerchant, &tb.notNull)
	})
	require.NoError(t, err)
	shardLike := regexp.MustCompile(`_[0-9]+$`)
	named := func(kind, name string) {
		if shardLike.MatchString(name) {
			add("%s %s: ends in _<digits>, as Citus names a shard's copy (dbx.ConstraintName drops that suffix)", kind, name)
		}
	}
	placement := map[string]migrate.Placement{}
	for _, tb := range tables {
		named("table", tb.name)
		placement[tb.name] = migrate.PlacementOf(tb.name)
		if placement[tb.name] != migrate.Distributed {
			continue
		}
		switch {
		case !tb.hasMerchant:
			add("%s: no merchant_id column (a merchant table is sharded by it; a global table is a reference table in migrate.referenceTables)", tb.name)
		case !tb.notNull:
			add("%s: merchant_id may be NULL", tb.name)
		}
	}

	// Primary keys and unique indexes (constraints or not, partial or not).
	type index struct {
		table, name string
		primary     bool
		columns     []string
	}
	indexes, err := collect(ctx, pool, `
		SELECT c.relname, i.relname, x.indisprimary,
		       array(SELECT coalesce(a.attname, '(expression)') FROM unnest(x.indkey[:x.indnkeyatts - 1]) WITH ORDINALITY k(attnum, n)
		             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum ORDER BY k.n)
		FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
		WHERE c.relnamespace = 'public'::regnamespace AND x.indisunique AND NOT `+isShard("c.relname")+`
		ORDER BY 1, 2`, func(r pgx.CollectableRow) (index, error) {
		var ix index
		return ix, r.Scan(&ix.table, &ix.name, &ix.primary, &ix.columns)
	})
	require.NoError(t, err)
	hasPrimary := map[string]bool{}
	for _, ix := range indexes {
		named("index", ix.name)
		if placement[ix.table] != migrate.Distributed {
			continue
		}
		what := "unique index " + ix.name
		if ix.primary {
			hasPrimary[ix.table], what = true, "primary key"
		}
		if len(ix.columns) == 0 || ix.columns[0] != migrate.DistributionColumn {
			add("%s: %s (%s) does not start with merchant_id", ix.table, what, strings.Join(ix.columns, ", "))
		}
	}
	for _, tb := range tables {
		if placement[tb.name] == migrate.Distributed && !hasPrimary[tb.name] {
			add("%s: no primary key (a shard move replicates by it)", tb.name)
		}
	}

	// Foreign keys: between merchant tables, merchant_id pairs with
	// merchant_id first; a reference table references only references.
	type foreignKey struct {
		table, name, target string
		from, to            []string
	}
	fks, err := collect(ctx, pool, `
		SELECT c.conrelid::regclass::text, c.conname, c.confrelid::regclass::text,
		       array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)
		             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n),
		       array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)
		             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.n)
		FROM pg_constraint c
		WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace AND NOT `+isShard("c.conrelid::regclass::text")+`
		ORDER BY 1, 2`, func(r pgx.CollectableRow) (foreignKey, error) {
		var fk foreignKey
		return fk, r.Scan(&fk.table, &fk.name, &fk.target, &fk.from, &fk.to)
	})
	require.NoError(t, err)
	for _, fk := range fks {
		named("foreign key", fk.name)
		from, to := placement[fk.table], placement[fk.target]
		desc := fmt.Sprintf("foreign key %s (%s) -> %s (%s)", fk.name, strings.Join(fk.from, ", "), fk.target, strings.Join(fk.to, ", "))
		switch {
		case to == migrate.Reference:
		case from == migrate.Distributed && to == migrate.Distributed:
			if fk.from[0] != migrate.DistributionColumn || fk.to[0] != migrate.DistributionColumn {
				add("%s: %s does not pair merchant_id first", fk.table, desc)
			}
		default:
			add("%s: %s joins a %s table to a %s one", fk.table, desc, from, to)
		}
	}

	// Triggers run on each shard, where the coordinator's own tables
	// (River's) are not.
	type trigger struct{ table, name, function, source string }
	triggers, err := collect(ctx, pool, `
		SELECT c.relname, t.tgname, p.proname, p.prosrc
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
		WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal AND NOT `+isShard("c.relname")+`
		ORDER BY 1, 2`, func(r pgx.CollectableRow) (trigger, error) {
		var tg trigger
		return tg, r.Scan(&tg.table, &tg.name, &tg.function, &tg.source)
	})
	require.NoError(t, err)
	for _, tg := range triggers {
		if placement[tg.table] != migrate.Local && strings.Contains(tg.source, "river_") {
			add("%s: trigger %s runs %s, which names river_job (a shard has no River table)", tg.table, tg.name, tg.function)
		}
	}
	return problems
}

// isShard says in SQL whether the relation named by expr is a shard: on
// Citus the coordinator holds the shards of reference tables, named after
// their table with the shard id appended.
func isShard(expr string) string {
	return "(" + expr + " ~ '_[0-9]+$' AND to_regclass(regexp_replace(" + expr + ", '_[0-9]+$', '')) IS NOT NULL)"
}

func collect[T any](ctx context.Context, pool *pgxpool.Pool, sql string, scan pgx.RowToFunc[T]) ([]T, error) {
	rows, err := pool.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scan)
}

// TestCitusPlacesEveryTable (make test-citus): feddi migrate, finding Citus,
// distributed every merchant table by merchant_id in one co-location
// group, made the global tables reference tables, left River's and goose's
// on the coordinator, and the money triggers exist on every shard.
func TestCitusPlacesEveryTable(t *testing.T) {
	t.Parallel()
	if !testdb.Citus() {
		t.Skip("runs on Citus only (make test-citus)")
	}
	ctx := context.Background()
	pool := testdb.New(t)
	type placed struct {
		table, method, column string
		colocation            int
	}
	rows, err := collect(ctx, pool, `
		SELECT c.relname, coalesce(p.partmethod::text, ''),
		       coalesce(column_to_column_name(p.logicalrelid, p.partkey), ''), coalesce(p.colocationid, 0)
		FROM pg_class c LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
		ORDER BY 1`, func(r pgx.CollectableRow) (placed, error) {
		var p placed
		return p, r.Scan(&p.table, &p.method, &p.column, &p.colocation)
	})
	require.NoError(t, err)
	groups := map[int]bool{}
	var distributed int
	for _, p := range rows {
		switch migrate.PlacementOf(p.table) {
		case migrate.Distributed:
			require.Equal(t, "h", p.method, "%s is hash-distributed", p.table)
			require.Equal(t, migrate.DistributionColumn, p.column, p.table)
			groups[p.colocation] = true
			distributed++
		case migrate.Reference:
			require.Equal(t, "n", p.method, "%s is a reference table", p.table)
		case migrate.Local:
			require.Empty(t, p.method, "%s stays on the coordinator", p.table)
		}
	}
	require.Greater(t, distributed, 20)
	require.Len(t, groups, 1, "one co-location group")

	// The money rules are triggers of every shard of the ledger (Citus
	// names a shard's copy of a trigger after the shard).
	var placements, guarded int
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE success AND result = 't')
		FROM run_command_on_placements('ledger_entries',
		     $$SELECT count(*) = 1 FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname LIKE 'ledger_entries_balanced%%'$$)`).Scan(&placements, &guarded))
	require.Positive(t, placements)
	require.Equal(t, placements, guarded, "every shard of ledger_entries has the balance trigger")
}
