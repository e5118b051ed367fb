package enrollment_test

// Verifying records an event: apptest installs the renderer.
import _ "github.com/feddi/partner-api/internal/app/apptest"
