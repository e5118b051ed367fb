package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reads pgxpool's statistics at each scrape.
type poolCollector struct {
	pool *pgxpool.Pool

	acquired, idle, total, max *prometheus.Desc
	acquires, waits, waitTime  *prometheus.Desc
	canceled                   *prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "db_pool", name), help, nil, nil)
	}
	return &poolCollector{
		pool:     pool,
		acquired: d("acquired_connections", "Connections in use by the service now."),
		idle:     d("idle_connections", "Idle connections in the pool now."),
		total:    d("connections", "Connections open now (acquired, idle and being opened)."),
		max:      d("max_connections", "The pool's ceiling."),
		acquires: d("acquires_total", "Successful connection acquisitions."),
		waits:    d("waits_total", "Acquisitions that had to wait for a connection (the pool was empty)."),
		waitTime: d("wait_seconds_total", "Total time acquisitions waited for a connection."),
		canceled: d("canceled_acquires_total", "Acquisitions given up because their context ended."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.acquires, c.waits, c.waitTime, c.canceled} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(st.AcquiredConns()))
	gauge(c.idle, float64(st.IdleConns()))
	gauge(c.total, float64(st.TotalConns()))
	gauge(c.max, float64(st.MaxConns()))
	counter(c.acquires, float64(st.AcquireCount()))
	counter(c.waits, float64(st.EmptyAcquireCount()))
	counter(c.waitTime, st.EmptyAcquireWaitTime().Seconds())
	counter(c.canceled, float64(st.CanceledAcquireCount()))
}
