package migrate

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Placement is where a table's rows live on a Citus cluster.
type Placement int

const (
	// Distributed: sharded by merchant_id, co-located with every other
	// merchant table, so one merchant's rows share one shard.
	Distributed Placement = iota
	// Reference: a full copy on every node. For global tables, and for
	// the few merchant tables read before the merchant is known.
	Reference
	// Local: on the coordinator only (the migration bookkeeping, River).
	Local
)

// DistributionColumn shards every merchant table.
const DistributionColumn = "merchant_id"

// referenceTables are copied to every node. merchants and signing_keys are
// global. integrations, api_keys and api_key_tombstones belong to a
// merchant but are read to authenticate a request, before its merchant is
// known (by the key's hash), are small, and change rarely; as reference
// tables they are one local read on any node, and merchant tables can
// keep their foreign keys to them.
var referenceTables = []string{"merchants", "signing_keys", "integrations", "api_keys", "api_key_tombstones"}

// PlacementOf says where table lives on Citus: every table not named here
// or belonging to River or goose is a merchant table.
func PlacementOf(table string) Placement {
	switch {
	case slices.Contains(referenceTables, table):
		return Reference
	case table == "goose_db_version" || strings.HasPrefix(table, "river_"):
		return Local
	default:
		return Distributed
	}
}

// distribute places the tables on a Citus cluster when the database has
// the citus extension (a coordinator), and does nothing otherwise. It is
// idempotent: tables already placed are left alone, so a migration that
// adds a table places only that one.
//
// The foreign keys between the tables it places are dropped first and
// added back after (Citus places a table only when the tables it
// references are placed, and checkout_sessions and payments reference each
// other); all of it in one transaction, sequential per node as Citus asks
// when foreign keys are created in a transaction.
func distribute(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	var citus bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')`).Scan(&citus); err != nil {
		return fmt.Errorf("looking for Citus: %w", err)
	}
	if !citus {
		return nil
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true),
			set_config('citus.enable_unsafe_triggers', 'on', true)`); err != nil {
			return fmt.Errorf("configuring the placement transaction: %w", err)
		}
		pending, err := unplacedTables(ctx, tx)
		if err != nil || len(pending) == 0 {
			return err
		}
		fks, err := dropForeignKeys(ctx, tx, pending)
		if err != nil {
			return err
		}
		// Every merchant table joins the co-location group of those already
		// distributed (the first one starts it), whatever citus.shard_count
		// says by then.
		var anchor string
		if err := tx.QueryRow(ctx, `SELECT coalesce(min(logicalrelid::regclass::text), 'default')
			FROM pg_dist_partition WHERE partmethod = 'h'`).Scan(&anchor); err != nil {
			return fmt.Errorf("finding the co-location group: %w", err)
		}
		// References first: merchant tables keep foreign keys to them.
		slices.SortStableFunc(pending, func(a, b string) int { return int(PlacementOf(b)) - int(PlacementOf(a)) })
		for _, table := range pending {
			var err error
			switch PlacementOf(table) {
			case Reference:
				_, err = tx.Exec(ctx, `SELECT create_reference_table($1)`, table)
			case Distributed:
				_, err = tx.Exec(ctx, `SELECT create_distributed_table($1, $2, colocate_with => $3)`, table, DistributionColumn, anchor)
				anchor = table
			}
			if err != nil {
				return fmt.Errorf("placing %s on Citus: %w", table, err)
			}
			logger.Info("placed table on Citus", "table", table, "placement", PlacementOf(table).String())
		}
		for _, fk := range fks {
			if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s",
				pgx.Identifier{fk.table}.Sanitize(), pgx.Identifier{fk.name}.Sanitize(), fk.def)); err != nil {
				return fmt.Errorf("adding back %s on %s: %w", fk.name, fk.table, err)
			}
		}
		return nil
	})
}

func (p Placement) String() string {
	switch p {
	case Distributed:
		return "distributed"
	case Reference:
		return "reference"
	default:
		return "local"
	}
}

// unplacedTables lists the public tables Citus does not know yet, but for
// the local ones.
func unplacedTables(ctx context.Context, tx pgx.Tx) ([]string, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
		  AND NOT EXISTS (SELECT FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)
		ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("listing tables to place: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing tables to place: %w", err)
	}
	return slices.DeleteFunc(names, func(t string) bool { return PlacementOf(t) == Local }), nil
}

type foreignKey struct{ table, name, def string }

// dropForeignKeys drops the foreign keys of and to the tables about to be
// placed, returning them to be added back.
func dropForeignKeys(ctx context.Context, tx pgx.Tx, tables []string) ([]foreignKey, error) {
	rows, err := tx.Query(ctx, `
		SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE contype = 'f' AND connamespace = 'public'::regnamespace
		  AND (conrelid::regclass::text = ANY ($1) OR confrelid::regclass::text = ANY ($1))
		ORDER BY 1, 2`, tables)
	if err != nil {
		return nil, fmt.Errorf("reading foreign keys: %w", err)
	}
	fks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (foreignKey, error) {
		var fk foreignKey
		return fk, r.Scan(&fk.table, &fk.name, &fk.def)
	})
	if err != nil {
		return nil, fmt.Errorf("reading foreign keys: %w", err)
	}
	for _, fk := range fks {
		if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s",
			pgx.Identifier{fk.table}.Sanitize(), pgx.Identifier{fk.name}.Sanitize())); err != nil {
			return nil, fmt.Errorf("dropping %s on %s: %w", fk.name, fk.table, err)
		}
	}
	return fks, nil
}
