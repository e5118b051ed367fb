package httpapi_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/feddi/partner-api/internal/app/apptest"
)

// TestUnparsableRequestsAreAnsweredBeforeTheApplication pins the one
// documented exception to "every response is the envelope" (the conventions
// section of the document, docs/conventions.md): a request Go's HTTP server
// cannot parse never reaches routing, and gets that server's plain-text 400.
func TestUnparsableRequestsAreAnsweredBeforeTheApplication(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t)
	u, err := url.Parse(s.URL)
	require.NoError(t, err)

	for name, head := range map[string]string{
		"InvalidHeaderName":  "GET /health HTTP/1.1\r\nHost: feddi\r\nBad Header: 1\r\n\r\n",
		"InvalidHeaderValue": "GET /health HTTP/1.1\r\nHost: feddi\r\nX-Request-Id: req_a\x01b\r\n\r\n",
		"RepeatedHost":       "GET /health HTTP/1.1\r\nHost: feddi\r\nHost: other\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", u.Host)
			require.NoError(t, err)
			t.Cleanup(func() { _ = conn.Close() })
			require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
			_, err = io.WriteString(conn, head)
			require.NoError(t, err)

			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err)
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusBadRequest, res.StatusCode, "body: %s", body)
			require.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain"), res.Header.Get("Content-Type"))
			require.Empty(t, res.Header.Get("X-Request-Id"), "the application never saw it")
			require.True(t, strings.HasPrefix(string(body), "400 Bad Request"), "plain text, not the envelope: %s", body)
		})
	}
}
