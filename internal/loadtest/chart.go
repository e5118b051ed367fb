package loadtest

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WriteChart draws two bar charts side by side, rate as a ratio to
// pgbench's tps and p99 latency per scenario, into a PNG file.
func WriteChart(path string, r *Report) error {
	names := make([]string, len(r.Results))
	ratio := make(plotter.Values, len(r.Results))
	p99 := make(plotter.Values, len(r.Results))
	for i, res := range r.Results {
		names[i] = res.Scenario
		ratio[i] = res.Ratio
		p99[i] = res.Latency.P99
	}
	rateTitle := fmt.Sprintf("rate ÷ pgbench TPC-B tps (%.0f tps)", r.PgbenchTPS)
	rateAxis := "ratio (pairs or requests per TPC-B transaction)"
	if r.PgbenchTPS == 0 { // pgbench skipped: plot absolute rates
		for i, res := range r.Results {
			ratio[i] = res.Rate
		}
		rateTitle, rateAxis = "rate (pgbench not run)", "pairs or requests per second"
	}
	left, err := barPlot(rateTitle, rateAxis, names, ratio, color.RGBA{R: 0x2b, G: 0x6c, B: 0xb0, A: 0xff})
	if err != nil {
		return err
	}
	right, err := barPlot("p99 latency of the scenario's unit", "milliseconds", names, p99, color.RGBA{R: 0xc0, G: 0x50, B: 0x2a, A: 0xff})
	if err != nil {
		return err
	}
	img := vgimg.New(32*vg.Centimeter, 12*vg.Centimeter)
	dc := draw.New(img)
	canvases := plot.Align([][]*plot.Plot{{left, right}}, draw.Tiles{
		Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 3,
		PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3,
	}, dc)
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing the chart: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing the chart: %w", err)
	}
	return f.Close()
}

func barPlot(title, yLabel string, names []string, vs plotter.Values, c color.Color) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	bars, err := plotter.NewBarChart(vs, vg.Points(18))
	if err != nil {
		return nil, fmt.Errorf("drawing the chart: %w", err)
	}
	bars.Color = c
	bars.LineStyle.Width = 0
	// Each bar carries its value, so the chart reads without the table.
	xys := make(plotter.XYs, len(vs))
	texts := make([]string, len(vs))
	top := 0.0
	for i, v := range vs {
		xys[i] = plotter.XY{X: float64(i), Y: v}
		texts[i] = barLabel(v)
		top = max(top, v)
	}
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return nil, fmt.Errorf("drawing the chart: %w", err)
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].XAlign = draw.XCenter
		labels.TextStyle[i].YAlign = draw.YBottom
	}
	p.Add(bars, labels, plotter.NewGrid())
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	p.Y.Min = 0
	p.Y.Max = top * 1.15 // room for the labels above the tallest bar
	if top == 0 {
		p.Y.Max = 1
	}
	return p, nil
}

// barLabel writes a bar's value with three significant digits, but whole
// numbers from 100 up (1084, not 1.08e+03).
func barLabel(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
