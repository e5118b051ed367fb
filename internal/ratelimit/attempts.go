package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/feddi/partner-api/gen/db"
)

// Unlike guesses, some attempts count whether they succeed or not: a phone
// lookup (a found number is exactly what a till sweeping numbers wants) and
// an SMS sent (each costs money, and a pumping attack wants them all to go
// out). Take counts those.

// Bucket is one token bucket an attempt is counted in.
type Bucket struct {
	// Name is the kind of bucket ("lookup:terminal", "sms:integration").
	Name string
	// Subject is who is counted in it, within the merchant.
	Subject string
	Rate    Rate
}

// The buckets of counted attempts.
const (
	bucketLookupTerminal  = "lookup:terminal"
	bucketSMSIntegration  = "sms:integration"
	bucketSMSCountry      = "sms:country"
	lookupExceededMessage = "too many customer lookups by phone from this terminal; retry later"
	smsExceededMessage    = "too many SMS sent for this integration or to this country in the last hour; retry later"
)

// Take counts one attempt of a merchant in every bucket given, or refuses it
// with *Exceeded when one of them is full; a refused attempt counts nothing.
// It runs on q, the caller's transaction, so the count commits if and only
// if what the attempt did commits; the first bucket's subject is locked
// until then, so check and count are one step however many attempts arrive
// at once. A bucket whose rate is not Valid (a Limiter built without that
// setting, in a domain test) is not enforced.
func (l *Limiter) Take(ctx context.Context, q *db.Queries, merchantID string, buckets ...Bucket) error {
	buckets = slices.DeleteFunc(buckets, func(b Bucket) bool { return !b.Rate.Valid() })
	if len(buckets) == 0 {
		return nil
	}
	g := Gate{MerchantID: merchantID, LockSubject: buckets[0].Name + ":" + buckets[0].Subject, Now: l.now()}
	for _, b := range buckets {
		g.Buckets = append(g.Buckets, b.Name)
		g.Subjects = append(g.Subjects, b.Subject)
		g.WindowSeconds = append(g.WindowSeconds, b.Rate.Window.Seconds())
		g.IntervalSeconds = append(g.IntervalSeconds, b.Rate.interval().Seconds())
	}
	wait, err := q.RateLimitGate(ctx, db.RateLimitGateParams(g))
	if err != nil {
		return fmt.Errorf("reading %s limits: %w", buckets[0].Name, err)
	}
	if err := Refused(wait); err != nil {
		return err
	}
	if err := l.Count(ctx, q, g); err != nil {
		return fmt.Errorf("counting a %s attempt: %w", buckets[0].Name, err)
	}
	return nil
}

// CountLookup counts one customer lookup by phone of a terminal (POST
// /identify, GET /customers/lookup), found or not, refusing it with
// *Exceeded past Limits.LookupPerTerminal: a till cannot sweep phone
// numbers for wallets.
func (l *Limiter) CountLookup(ctx context.Context, q *db.Queries, s Subject) error {
	err := l.Take(ctx, q, s.MerchantID, Bucket{Name: bucketLookupTerminal, Subject: s.terminal(), Rate: l.limits.LookupPerTerminal})
	return withMessage(err, lookupExceededMessage)
}

// SMS is one text message about to be queued.
type SMS struct {
	MerchantID    string
	IntegrationID string
	// Phone is the E.164 destination; its country calling code is counted.
	Phone string
}

// CountSMS counts one SMS of an integration, refusing it with *Exceeded
// past Limits.SMSPerIntegration or past Limits.SMSPerCountry to its
// destination's country calling code: a pumping attack (an integration
// made to send codes to premium numbers) is capped in what it costs.
func (l *Limiter) CountSMS(ctx context.Context, q *db.Queries, m SMS) error {
	integration := "integration:" + m.IntegrationID
	err := l.Take(ctx, q, m.MerchantID,
		Bucket{Name: bucketSMSIntegration, Subject: integration, Rate: l.limits.SMSPerIntegration},
		Bucket{Name: bucketSMSCountry, Subject: integration + ":cc:" + CallingCode(m.Phone), Rate: l.limits.SMSPerCountry},
	)
	return withMessage(err, smsExceededMessage)
}

// withMessage gives an *Exceeded the text of what was limited.
func withMessage(err error, msg string) error {
	if e := (*Exceeded)(nil); errors.As(err, &e) {
		e.message = msg
	}
	return err
}

// twoDigitCodes are the country calling codes of two digits (ITU-T E.164
// assignments). With 1 (North America) and 7 (Russia, Kazakhstan) being the
// only one-digit codes and every other code three digits long, the calling
// code of a number follows from its first digits without a phone library.
var twoDigitCodes = map[string]bool{
	"20": true, "27": true, "30": true, "31": true, "32": true, "33": true, "34": true, "36": true, "39": true,
	"40": true, "41": true, "43": true, "44": true, "45": true, "46": true, "47": true, "48": true, "49": true,
	"51": true, "52": true, "53": true, "54": true, "55": true, "56": true, "57": true, "58": true,
	"60": true, "61": true, "62": true, "63": true, "64": true, "65": true, "66": true,
	"81": true, "82": true, "84": true, "86": true,
	"90": true, "91": true, "92": true, "93": true, "94": true, "95": true, "98": true,
}

// CallingCode is the country calling code of an E.164 number, without the
// "+": "49" for +4915…, "1" for +1212…, "353" for +353…. Shared codes
// (1 for all of North America, 7) count as one country.
func CallingCode(phone string) string {
	d := strings.TrimPrefix(phone, "+")
	switch {
	case d == "":
		return "unknown"
	case d[0] == '1' || d[0] == '7':
		return d[:1]
	case len(d) >= 2 && twoDigitCodes[d[:2]]:
		return d[:2]
	case len(d) >= 3:
		return d[:3]
	}
	return d
}
