package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics counts requests by route, method and status and times them,
// in a registry of the server's own (no global state), served at /metrics.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	broken   *prometheus.CounterVec
	budget   prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roster_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
	}
	m.broken = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roster_http_broken_request_bodies_total",
		Help: "Requests answered 400 because the client broke its own body, by reason: timeout (it stalled past the read timeout), aborted (it closed the connection mid-body), malformed (bad chunked encoding).",
	}, []string{"reason"})
	m.budget = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "roster_queries_over_budget_total",
		Help: "List and search requests answered 400 tooMany because their query ran past the server's query budget.",
	})
	m.registry.MustRegister(m.requests, m.latency, m.broken, m.budget,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// observe records a request. route is the ServeMux pattern that matched
// (such as "GET /scim/v2/Users/{id}"), so ids never become labels.
func (m *metrics) observe(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// brokenBody counts a request whose client broke its own body (see
// brokenBody), apart from the server's faults.
func (m *metrics) brokenBody(reason string) { m.broken.WithLabelValues(reason).Inc() }

// overBudget counts a request whose query ran past the query budget.
func (m *metrics) overBudget() { m.budget.Inc() }
