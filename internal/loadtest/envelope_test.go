package loadtest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/loadtest"
)

func TestParseEnvelope(t *testing.T) {
	t.Parallel()
	const js = "application/json; charset=utf-8"

	t.Run("ReadsDataOfASuccess", func(t *testing.T) {
		t.Parallel()
		out := loadtest.ParseEnvelope(200, js, []byte(`{"ok":true,"data":{"id":"x"},"error":null,"meta":{}}`))
		require.True(t, out.OK())
		require.JSONEq(t, `{"id":"x"}`, string(out.Data))
	})
	t.Run("ReadsCodeAndReason", func(t *testing.T) {
		t.Parallel()
		out := loadtest.ParseEnvelope(422, js, []byte(`{"ok":false,"data":null,"error":{"code":"credential_invalid","details":{"reason":"used"}}}`))
		require.False(t, out.OK())
		require.Empty(t, out.Broken)
		require.Equal(t, "credential_invalid/used", out.ErrorKey())
		require.False(t, out.Superseded())
	})
	t.Run("CountsExpiredAndSupersededAsSuperseded", func(t *testing.T) {
		t.Parallel()
		for _, reason := range []string{"expired", "superseded"} {
			out := loadtest.ParseEnvelope(422, js, []byte(`{"ok":false,"error":{"code":"credential_invalid","details":{"reason":"`+reason+`"}}}`))
			require.True(t, out.Superseded(), reason)
		}
	})
	t.Run("KeysACodeWithoutReasonByCode", func(t *testing.T) {
		t.Parallel()
		out := loadtest.ParseEnvelope(429, js, []byte(`{"ok":false,"error":{"code":"rate_limited","details":{"retry_after_seconds":3}}}`))
		require.Equal(t, "rate_limited", out.ErrorKey())
	})
	t.Run("BreaksOn5xxEvenWithAnEnvelope", func(t *testing.T) {
		t.Parallel()
		out := loadtest.ParseEnvelope(500, js, []byte(`{"ok":false,"error":{"code":"internal_error","details":null}}`))
		require.NotEmpty(t, out.Broken)
		require.Equal(t, "broken", out.ErrorKey())
	})
	t.Run("BreaksOnWhatIsNotAnEnvelope", func(t *testing.T) {
		t.Parallel()
		for name, c := range map[string]struct {
			status      int
			contentType string
			body        string
		}{
			"PlainText":          {502, "text/plain", "Bad Gateway"},
			"NoContentType":      {200, "", `{"ok":true}`},
			"NotJSON":            {200, js, "<html>"},
			"NoOK":               {200, js, `{"data":{}}`},
			"OKOnAnError":        {400, js, `{"ok":true,"data":{}}`},
			"FailureWithoutCode": {400, js, `{"ok":false,"error":{}}`},
		} {
			out := loadtest.ParseEnvelope(c.status, c.contentType, []byte(c.body))
			require.NotEmpty(t, out.Broken, name)
		}
	})
}
