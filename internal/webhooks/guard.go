package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Timeout bounds one delivery attempt, connection included.
const Timeout = 10 * time.Second

// Guard decides which endpoint URLs and which connections are allowed: in
// live, https to public addresses only; in the sandbox, also plain http to
// the loopback address 127.0.0.1 (a test receiver on the integrator's
// machine).
type Guard struct {
	// Sandbox allows http://127.0.0.1.
	Sandbox bool
	// Resolver looks hosts up; nil is net.DefaultResolver.
	Resolver *net.Resolver
	// Lookup, when set, replaces the resolver for CheckURL (tests without
	// DNS). The dialer's check at connect time never uses it: it checks the
	// address it actually connects to.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// ErrURL: the endpoint URL is refused; the error says why without echoing
// the URL (it may carry a credential).
var ErrURL = errors.New("endpoint URL refused")

// CheckURL refuses a URL that could reach inside our network: not https
// (the sandbox's http://127.0.0.1 aside), credentials in the URL, or a host
// that resolves to any non-public address. The dialer checks again at every
// delivery (DNS may change between registration and delivery).
func (g Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: not an absolute URL without credentials", ErrURL)
	}
	host := u.Hostname()
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && g.Sandbox && host == "127.0.0.1":
		return nil
	default:
		return fmt.Errorf("%w: https only (the sandbox also allows http://127.0.0.1)", ErrURL)
	}
	lookup := g.Lookup
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return g.resolver().LookupNetIP(ctx, "ip", host)
		}
	}
	addrs, err := lookup(ctx, host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("%w: the host does not resolve", ErrURL)
	}
	for _, a := range addrs {
		if !g.allowed(a) {
			return fmt.Errorf("%w: the host resolves to a private, loopback or link-local address", ErrURL)
		}
	}
	return nil
}

func (g Guard) resolver() *net.Resolver {
	if g.Resolver != nil {
		return g.Resolver
	}
	return net.DefaultResolver
}

// allowed says whether a connection to a may be made.
func (g Guard) allowed(a netip.Addr) bool {
	a = a.Unmap()
	if g.Sandbox && a == netip.AddrFrom4([4]byte{127, 0, 0, 1}) {
		return true
	}
	return Public(a)
}

// Public says whether a is a public unicast address: not loopback,
// private (RFC 1918, fc00::/7), link-local, unspecified, multicast, CGNAT
// (100.64.0.0/10) or otherwise reserved.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// errAddress: the dialer refused the address it was about to connect to.
var errAddress = errors.New("connection to a non-public address refused")

// Client is the HTTP client of deliveries: every connection is checked by
// the dialer's Control (after DNS, so a name re-pointed at an internal
// address is refused), redirects are not followed (a 3xx is a failure),
// no proxy from the environment, Timeout per attempt.
func (g Guard) Client() *http.Client {
	d := &net.Dialer{
		Timeout: Timeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !g.allowed(ap.Addr()) {
				return errAddress
			}
			return nil
		},
		Resolver: g.Resolver,
	}
	return &http.Client{
		Timeout: Timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         d.DialContext,
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: Timeout,
			MaxIdleConns:        10,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
