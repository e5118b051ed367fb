package auth_test

// Revoking a key records an event: apptest installs the renderer.
import _ "github.com/feddi/partner-api/internal/app/apptest"
