package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	citusEnv = "FEDDI_TEST_CITUS_URL"
	// citusTemplate is the database db/citus.sh template makes on every
	// node and `feddi migrate` distributes; make test-citus then restarts
	// the nodes so that no session (nor Citus's maintenance daemon) holds
	// it, as CREATE DATABASE … TEMPLATE requires.
	citusTemplate = "feddi_template"
)

// Citus reports whether the tests run on a Citus cluster.
func Citus() bool { return os.Getenv(citusEnv) != "" }

var citusNodes = sync.OnceValues(func() ([]string, error) {
	return readCitusNodes(os.Getenv(citusEnv))
})

// readCitusNodes lists the admin URL (database postgres) of the coordinator
// and of every worker registered with it.
func readCitusNodes(coordinator string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := url.Parse(coordinator)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", citusEnv, err)
	}
	conn, err := pgx.Connect(ctx, coordinator)
	if err != nil {
		return nil, fmt.Errorf("connecting to the Citus coordinator: %w", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	rows, err := conn.Query(ctx, `SELECT nodename, nodeport FROM pg_dist_node WHERE groupid > 0 AND isactive ORDER BY groupid`)
	if err != nil {
		return nil, fmt.Errorf("reading the Citus workers: %w", err)
	}
	workers, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var host string
		var port int
		if err := r.Scan(&host, &port); err != nil {
			return "", err
		}
		w := *u
		w.Host = fmt.Sprintf("%s:%d", host, port)
		w.Path = "/postgres"
		return w.String(), nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the Citus workers: %w", err)
	}
	if len(workers) == 0 {
		return nil, fmt.Errorf("the Citus coordinator of %s has no worker registered", citusEnv)
	}
	admin := *u
	admin.Path = "/postgres"
	return append([]string{admin.String()}, workers...), nil
}

// citusURL clones the template on every node under a fresh name and
// returns the coordinator's URL of it; the clones are dropped after the
// test.
func citusURL(t testing.TB, coordinator string) string {
	t.Helper()
	nodes, err := citusNodes()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "citus_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		for _, node := range nodes {
			if err := dropOnNode(node, name); err != nil {
				t.Errorf("dropping %s: %v", name, err)
			}
		}
	})
	for _, node := range nodes {
		if err := onNode(node, "CREATE DATABASE "+name+" TEMPLATE "+citusTemplate); err != nil {
			t.Fatalf("cloning %s on %s (make test-citus prepares it): %v", citusTemplate, node, err)
		}
	}
	u, err := url.Parse(coordinator)
	if err != nil {
		t.Fatalf("parsing %s: %v", citusEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

func onNode(adminURL, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, stmt)
	return err
}

// dropOnNode drops database on one node. FORCE ends the sessions in it,
// but Citus's maintenance daemon of the database, or a connection the
// coordinator opened to a worker an instant earlier, may still hold it for
// a moment: the drop is tried again for a few seconds.
func dropOnNode(adminURL, database string) error {
	var err error
	for range 20 {
		if err = onNode(adminURL, "DROP DATABASE IF EXISTS "+database+" WITH (FORCE)"); err == nil {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return err
}
