package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/feddi/partner-api/gen/client"
	"github.com/feddi/partner-api/internal/app/apptest"
	"github.com/feddi/partner-api/internal/moneytest"
	"github.com/feddi/partner-api/internal/platform/config"
	"github.com/feddi/partner-api/internal/platform/testdb"
	"github.com/feddi/partner-api/internal/platform/tracing"
)

// scrape reads the server's /metrics from its admin listener.
func scrape(t *testing.T, s *apptest.Server) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	res, err := http.Get(s.AdminURL + "/metrics")
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	require.Equal(t, http.StatusOK, res.StatusCode)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	return string(body), fams
}

// sample is the value of the series of family name whose labels are
// exactly labels (a counter's or gauge's value, a histogram's count); 0
// when there is no such series.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

func TestMetricsCountCommittedEffectsByOperationAndOutcome(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t) // a server of its own: every count below is this test's
	w := e.wallet(10_000)
	m := e.mint(w.ID)

	key := moneytest.NewIdemKey()
	data := client.CreatePaymentInputData{AmountMinor: 2_500, Currency: "EUR", Credential: qrCredential(m.QrPayload)}
	res := e.payWithKey(key, data)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	replay := e.payWithKey(key, data)
	require.Equal(t, http.StatusOK, replay.StatusCode(), "body: %s", replay.Body)
	require.Equal(t, "true", replay.HTTPResponse.Header.Get("Idempotent-Replayed"))
	declined := e.payQR(e.mint(w.ID).QrPayload, 1_000_000)
	wantError(t, declined, declined.Body, http.StatusPaymentRequired, client.ErrorCodeInsufficientFunds)

	_, fams := scrape(t, e.S)
	op := func(id, status, code string) map[string]string {
		return map[string]string{"operation_id": id, "status": status, "error_code": code}
	}
	require.Equal(t, 2.0, sample(fams, "feddi_http_requests_total", op("createPayment", "200", "")), "the payment and its replay")
	require.Equal(t, 1.0, sample(fams, "feddi_http_requests_total", op("createPayment", "402", "insufficient_funds")))
	require.Equal(t, 1.0, sample(fams, "feddi_http_requests_total", op("confirmTopup", "200", "")))
	require.Equal(t, 2.0, sample(fams, "feddi_http_request_duration_seconds", op("createPayment", "200", "")), "the histogram counts both")
	require.Equal(t, 1.0, sample(fams, "feddi_idempotent_replays_total", map[string]string{"operation_id": "createPayment"}))

	require.Equal(t, 1.0, sample(fams, "feddi_payments_total", map[string]string{"outcome": "captured", "decline_code": ""}),
		"the replay took no effect and counts no payment")
	require.Equal(t, 1.0, sample(fams, "feddi_payments_total", map[string]string{"outcome": "declined", "decline_code": "insufficient_funds"}))
	eurActual := map[string]string{"currency": "EUR", "class": "actual"}
	require.Equal(t, 2_500.0, sample(fams, "feddi_money_authorized_minor_total", eurActual), "the decline moved no money")
	require.Equal(t, 2_500.0, sample(fams, "feddi_money_captured_minor_total", eurActual), "automatic capture")
	require.Equal(t, 10_000.0, sample(fams, "feddi_money_topped_up_minor_total", eurActual))

	require.Positive(t, sample(fams, "feddi_db_pool_acquires_total", map[string]string{}))
	require.Positive(t, sample(fams, "feddi_db_pool_max_connections", map[string]string{}))
	require.Contains(t, fams, "go_build_info")
}

// TestMetricsCountPromoAndManualCapture: the money counters split the
// classes, and a manual payment counts as authorized, then captured.
func TestMetricsCountPromoAndManualCapture(t *testing.T) {
	t.Parallel()
	e := newPayEnv(t)
	w := e.wallet(1_000, grantSpec{amount: 300, ttl: 24 * time.Hour})
	res := e.payQR(e.mint(w.ID).QrPayload, 800, func(d *client.CreatePaymentInputData) {
		d.Capture = payRef(client.CaptureModeManual)
	})
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
	_, fams := scrape(t, e.S)
	require.Equal(t, 1.0, sample(fams, "feddi_payments_total", map[string]string{"outcome": "authorized", "decline_code": ""}))
	require.Equal(t, 300.0, sample(fams, "feddi_money_authorized_minor_total", map[string]string{"currency": "EUR", "class": "promo"}), "promo first")
	require.Equal(t, 500.0, sample(fams, "feddi_money_authorized_minor_total", map[string]string{"currency": "EUR", "class": "actual"}))
	require.Zero(t, sample(fams, "feddi_money_captured_minor_total", map[string]string{"currency": "EUR", "class": "actual"}))

	captured := e.capture(res.JSON200.Data.Id, client.CapturePaymentInputData{Action: client.CaptureActionCapture, AmountMinor: payRef(int64(600))})
	require.Equal(t, http.StatusOK, captured.StatusCode(), "body: %s", captured.Body)
	_, fams = scrape(t, e.S)
	require.Equal(t, 300.0, sample(fams, "feddi_money_captured_minor_total", map[string]string{"currency": "EUR", "class": "promo"}))
	require.Equal(t, 300.0, sample(fams, "feddi_money_captured_minor_total", map[string]string{"currency": "EUR", "class": "actual"}))
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t)
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(s.AdminURL + path)
		require.NoError(t, err)
		defer func() { _ = res.Body.Close() }()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(body)
	}
	status, _ := get("/livez")
	require.Equal(t, http.StatusOK, status)
	status, body := get("/readyz")
	require.Equal(t, http.StatusOK, status, body)

	t.Run("NotReadyWhenMigrationsAreBehind", func(t *testing.T) {
		ctx := context.Background()
		var newest int64
		require.NoError(t, s.Pool.QueryRow(ctx, `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version) RETURNING version_id`).Scan(&newest))
		status, body := get("/readyz")
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Contains(t, body, "migrations behind")
		_, err := s.Pool.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, newest)
		require.NoError(t, err)
		status, body = get("/readyz")
		require.Equal(t, http.StatusOK, status, body)
	})
	t.Run("NotReadyOnceDraining", func(t *testing.T) {
		s.Ready.Drain()
		status, body := get("/readyz")
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Contains(t, body, "shutting down")
		status, _ = get("/livez")
		require.Equal(t, http.StatusOK, status, "alive while it drains")
	})
}

// TestTracesFollowAPaymentIntoItsSQL: one payment is one span named by its
// operation, continuing the caller's traceparent, with a child span per
// SQL statement; argument values are never recorded.
func TestTracesFollowAPaymentIntoItsSQL(t *testing.T) {
	t.Parallel()
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s := apptest.StartWithTracer(t, tp)
	e := &payEnv{Env: moneytest.On(t, s, "Traced Merchant"), t: t}
	w := e.wallet(10_000)
	m := e.mint(w.ID)

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	exporter.Reset()
	res := e.pay(client.CreatePaymentInputData{AmountMinor: 2_500, Currency: "EUR", Credential: qrCredential(m.ShortCode)},
		e.AsAdmin(), func(_ context.Context, req *http.Request) error {
			req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
			return nil
		})
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	var request sdktrace.ReadOnlySpan
	require.Eventually(t, func() bool {
		for _, sp := range exporter.GetSpans().Snapshots() {
			if sp.Name() == "createPayment" {
				request = sp
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the request's span is exported when it ends")
	require.Equal(t, traceID, request.SpanContext().TraceID().String(), "the caller's trace goes on")
	require.Equal(t, parentID, request.Parent().SpanID().String())

	var children []string
	for _, sp := range exporter.GetSpans().Snapshots() {
		if sp.Parent().SpanID() == request.SpanContext().SpanID() {
			children = append(children, sp.Name())
			for _, a := range sp.Attributes() {
				require.NotEqual(t, "pgx.query.parameters", string(a.Key), "argument values are never recorded")
			}
		}
	}
	for _, want := range []string{"IdempotencyKeyClaim", "QrTokenUseByShortCode", "WalletGetForUpdate", "LedgerPost", "PaymentInsert", "IdempotencyKeyInsert", "commit"} {
		require.Contains(t, children, want, "the payment's SQL spans: %v", children)
	}
	requireNoSecretsInSpans(t, exporter, m.ShortCode, m.QrPayload)
}

// requireNoSecretsInSpans fails when any exported span's name or attribute
// holds one of secrets.
func requireNoSecretsInSpans(t *testing.T, exporter *tracetest.InMemoryExporter, secrets ...string) {
	t.Helper()
	spans := exporter.GetSpans().Snapshots()
	require.NotEmpty(t, spans)
	require.Empty(t, secretsInSpans(spans, secrets...))
}

// secretsInSpans lists where spans hold one of secrets.
func secretsInSpans(spans []sdktrace.ReadOnlySpan, secrets ...string) []string {
	var found []string
	for _, sp := range spans {
		for _, secret := range secrets {
			if strings.Contains(sp.Name(), secret) {
				found = append(found, sp.Name()+": name")
			}
			for _, a := range sp.Attributes() {
				if strings.Contains(a.Value.String(), secret) {
					found = append(found, sp.Name()+": "+string(a.Key))
				}
			}
		}
	}
	return found
}

// TestSQLSpansNeverRecordArgumentValues: the service's SQL tracer records a
// statement's text and not its arguments, and the check above would catch
// a tracer that recorded them (otelpgx.WithIncludeQueryParameters).
func TestSQLSpansNeverRecordArgumentValues(t *testing.T) {
	t.Parallel()
	const phone = "+4915999000111"
	// spansOf runs one statement with phone as its argument inside a span,
	// through the tracer newTracer makes over tp.
	spansOf := func(newTracer func(tp trace.TracerProvider) pgx.QueryTracer) []sdktrace.ReadOnlySpan {
		t.Helper()
		exporter := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
		cfg, err := pgxpool.ParseConfig(testdb.URL(t))
		require.NoError(t, err)
		cfg.ConnConfig.Tracer = newTracer(tp)
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		require.NoError(t, err)
		defer pool.Close()
		ctx, span := tp.Tracer("test").Start(context.Background(), "request")
		var got string
		require.NoError(t, pool.QueryRow(ctx, "SELECT $1::text", phone).Scan(&got))
		span.End()
		return exporter.GetSpans().Snapshots()
	}
	spans := spansOf(tracing.SQLTracer)
	require.Greater(t, len(spans), 1, "the statement has its span")
	require.Empty(t, secretsInSpans(spans, phone))

	spans = spansOf(func(tp trace.TracerProvider) pgx.QueryTracer {
		return otelpgx.NewTracer(otelpgx.WithTracerProvider(tp), otelpgx.WithIncludeQueryParameters())
	})
	require.Contains(t, secretsInSpans(spans, phone), "SELECT: pgx.query.parameters", "a planted leak is caught")
}

// TestNoPersonalDataInMetricsOrSpans runs an enrollment (its SMS sent by
// the River job) and an OTP payment, then looks for the phone number and
// every code in the scraped metrics and the exported spans.
func TestNoPersonalDataInMetricsOrSpans(t *testing.T) {
	t.Parallel()
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s := apptest.StartWithTracer(t, tp)
	e := &payEnv{Env: moneytest.On(t, s, "Private Merchant"), t: t}

	phone := newEnrollPhone()
	enrolled, err := e.C.InitiateEnrollmentWithResponse(e.Ctx, &client.InitiateEnrollmentParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.InitiateEnrollmentInput{Meta: moneytest.Meta(), Data: client.InitiateEnrollmentInputData{Phone: phone}}, e.AsAdmin())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, enrolled.StatusCode(), "body: %s", enrolled.Body)
	var smsBody string
	require.NoError(t, s.Pool.QueryRow(e.Ctx, `SELECT body FROM sms_outbox WHERE subject_id = $1`, enrolled.JSON200.Data.Verification.VerificationId).Scan(&smsBody))
	m := smsText.FindStringSubmatch(smsBody)
	require.NotNil(t, m, "SMS text %q", smsBody)
	enrollCode, linkToken := m[1], m[3]
	verified, err := e.C.VerifyEnrollmentWithResponse(e.Ctx, &client.VerifyEnrollmentParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.VerifyEnrollmentInput{Meta: moneytest.Meta(), Data: client.VerifyEnrollmentInputData{
			VerificationId: &enrolled.JSON200.Data.Verification.VerificationId, Code: &enrollCode,
		}}, e.AsAdmin())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, verified.StatusCode(), "body: %s", verified.Body)
	walletID := enrolled.JSON200.Data.Wallet.Id
	e.topup(walletID, "EUR", 5_000)

	start := e.pay(client.CreatePaymentInputData{AmountMinor: 700, Currency: "EUR", Credential: otpStart(phone)})
	challenge := wantError(t, start, start.Body, http.StatusPaymentRequired, client.ErrorCodeOtpRequired)
	challengeID, ok := (*challenge.Details)["challenge_id"].(string)
	require.True(t, ok, "details: %v", *challenge.Details)
	otp := e.otpCode(challengeID)
	paid := e.pay(client.CreatePaymentInputData{AmountMinor: 700, Currency: "EUR", Credential: otpFinish(challengeID, otp)})
	require.Equal(t, http.StatusOK, paid.StatusCode(), "body: %s", paid.Body)

	s.StartJobs(t) // the SMS go out through River
	require.Eventually(t, func() bool {
		_, fams := scrape(t, s)
		return sample(fams, "feddi_sms_total", map[string]string{"kind": "otp", "outcome": "sent"}) == 1 &&
			sample(fams, "feddi_sms_total", map[string]string{"kind": "enrollment_verification", "outcome": "sent"}) == 1
	}, 30*time.Second, 50*time.Millisecond, "both SMS are sent")
	text, fams := scrape(t, s)
	require.GreaterOrEqual(t, sample(fams, "feddi_river_jobs_total", map[string]string{"kind": "sms_send", "outcome": "completed"}), 2.0)
	require.Equal(t, 1.0, sample(fams, "feddi_payments_total", map[string]string{"outcome": "captured", "decline_code": ""}))

	digits := strings.TrimPrefix(phone, "+")
	for _, secret := range []string{phone, digits, enrollCode, linkToken, otp, challengeID} {
		require.NotContains(t, text, secret, "the metrics hold %s", secret)
	}
	requireNoSecretsInSpans(t, exporter, phone, digits, enrollCode, linkToken, otp)
	var jobSpans int
	for _, sp := range exporter.GetSpans().Snapshots() {
		if strings.HasPrefix(sp.Name(), "river.work") {
			jobSpans++
		}
	}
	require.Positive(t, jobSpans, "River jobs are traced")
}

// TestMetricsCountDeclinesAndRateLimitRefusals: a guessed QR code is a
// decline for credential_invalid; the guess after the limit is refused
// with rate_limited, which counts as a refusal and a decline of its own.
func TestMetricsCountDeclinesAndRateLimitRefusals(t *testing.T) {
	t.Parallel()
	e := &payEnv{Env: moneytest.Start(t, func(c *config.Config) {
		c.GuessLimitPerTerminal = config.Rate{Max: 1, Window: time.Hour}
		c.GuessLimitPerKey = config.Rate{Max: 1, Window: time.Hour}
	}), t: t}
	e.S.Clock.Stop() // the bucket never refills during the test
	unknown := "FD1." + strings.Repeat("A", 43)
	guess := e.payQR(unknown, 100)
	require.Equal(t, client.ErrorCodeCredentialInvalid, moneytest.APIError(t, guess.Body).Code, "body: %s", guess.Body)
	limited := e.payQR(unknown, 100)
	require.Equal(t, client.ErrorCodeRateLimited, moneytest.APIError(t, limited.Body).Code, "body: %s", limited.Body)

	_, fams := scrape(t, e.S)
	declined := func(code string) float64 {
		return sample(fams, "feddi_payments_total", map[string]string{"outcome": "declined", "decline_code": code})
	}
	require.Equal(t, 1.0, declined("credential_invalid"))
	require.Equal(t, 1.0, declined("rate_limited"))
	require.Equal(t, 1.0, sample(fams, "feddi_rate_limit_refusals_total", map[string]string{"operation_id": "createPayment"}))
}

// quietFamilies are the families that are zero between requests by
// design, with the reason.
var quietFamilies = map[string]string{
	"feddi_db_pool_acquired_connections":    "connections in use at the moment of the scrape: none between requests (feddi_db_pool_acquires_total counts them)",
	"feddi_db_pool_canceled_acquires_total": "acquisitions given up when their request's context ended, which no request here does",
	"promhttp_metric_handler_errors_total":  "failures of the scrape itself",
}

// TestEveryMetricFamilyHasASeries runs one of each thing the service
// counts (an enrollment with its SMS, a top-up and its replay, a payment,
// a guessed credential and the refusal after it) and then requires a
// non-zero series in every family the service exports, so a family that
// is registered but never fed shows up here.
func TestEveryMetricFamilyHasASeries(t *testing.T) {
	t.Parallel()
	e := &payEnv{Env: moneytest.Start(t, func(c *config.Config) {
		c.GuessLimitPerTerminal = config.Rate{Max: 1, Window: time.Hour}
	}), t: t}
	e.S.Clock.Stop()
	e.S.StartJobs(t)
	enrolled, err := e.C.InitiateEnrollmentWithResponse(e.Ctx, &client.InitiateEnrollmentParams{IdempotencyKey: moneytest.NewIdemKey()},
		client.InitiateEnrollmentInput{Meta: moneytest.Meta(), Data: client.InitiateEnrollmentInputData{Phone: newEnrollPhone()}}, e.AsAdmin())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, enrolled.StatusCode(), "body: %s", enrolled.Body)

	w := e.wallet(0)
	key := moneytest.NewIdemKey()
	e.MustTopup(t, moneytest.Topup{Key: key, WalletID: w.ID, Amount: 5_000, Reference: "ref-" + key})
	replay := e.ConfirmTopup(t, moneytest.Topup{Key: key, WalletID: w.ID, Amount: 5_000, Reference: "ref-" + key})
	require.True(t, replay.JSON200.Meta.IdempotentReplay)
	paid := e.payQR(e.mint(w.ID).QrPayload, 700)
	require.Equal(t, http.StatusOK, paid.StatusCode(), "body: %s", paid.Body)
	unknown := "FD1." + strings.Repeat("B", 43)
	require.Equal(t, client.ErrorCodeCredentialInvalid, moneytest.APIError(t, e.payQR(unknown, 100).Body).Code)
	require.Equal(t, client.ErrorCodeRateLimited, moneytest.APIError(t, e.payQR(unknown, 100).Body).Code)

	require.Eventually(t, func() bool {
		_, fams := scrape(t, e.S)
		return sample(fams, "feddi_sms_total", map[string]string{"kind": "enrollment_verification", "outcome": "sent"}) == 1
	}, 30*time.Second, 50*time.Millisecond, "the enrollment SMS is sent")
	_, fams := scrape(t, e.S)
	for name, f := range fams {
		if _, quiet := quietFamilies[name]; quiet {
			continue
		}
		nonZero := false
		for _, m := range f.GetMetric() {
			switch {
			case m.Counter != nil:
				nonZero = nonZero || m.GetCounter().GetValue() != 0
			case m.Gauge != nil:
				nonZero = nonZero || m.GetGauge().GetValue() != 0
			case m.Histogram != nil:
				nonZero = nonZero || m.GetHistogram().GetSampleCount() != 0
			case m.Summary != nil:
				nonZero = nonZero || m.GetSummary().GetSampleCount() != 0
			case m.Untyped != nil:
				nonZero = nonZero || m.GetUntyped().GetValue() != 0
			}
		}
		if !nonZero {
			t.Errorf("metric family %s has no non-zero series", name)
		}
	}
	for _, family := range []string{
		"feddi_http_requests_total", "feddi_http_request_duration_seconds", "feddi_idempotent_replays_total",
		"feddi_rate_limit_refusals_total", "feddi_river_jobs_total", "feddi_payments_total", "feddi_sms_total",
	} {
		require.Containsf(t, fams, family, "the flow feeds %s", family)
	}
}
