package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/feddi/partner-api/internal/loadtest"
)

// writeReport writes the JSON report and the chart, each once under the
// run's timestamp and once as latest.
func writeReport(dir, stamp string, r *loadtest.Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	for _, name := range []string{stamp, "latest"} {
		if err := os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
		if err := loadtest.WriteChart(filepath.Join(dir, name+".png"), r); err != nil {
			return err
		}
	}
	fmt.Printf("report: %s (and latest.json, latest.png)\n", filepath.Join(dir, stamp+".json"))
	return nil
}
