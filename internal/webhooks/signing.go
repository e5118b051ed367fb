// Package webhooks delivers the event log to integrators' endpoints,
// Standard Webhooks style: endpoints with sealed secrets (Service), the
// SSRF guard of their URLs and of every connection (Guard), the
// signatures (Signature, with the previous secret during a rotation) and
// the River worker that posts, records each attempt, retries with backoff
// and disables an endpoint failing for RetryWindow (DeliveryWorker). The
// delivery jobs are inserted by a trigger on the events table
// (00014_webhooks.sql), in the event's transaction.
package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts a Standard Webhooks secret; the rest is base64.
const SecretPrefix = "whsec_"

// secretBytes is the length of a new secret's key (Standard Webhooks asks
// for 24 to 64).
const secretBytes = 32

// NewSecret returns a fresh signing secret, "whsec_" + base64 of 32 random
// bytes, shown to the integrator once.
func NewSecret() (string, error) {
	key := make([]byte, secretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ErrSecret: not a secret of ours.
var ErrSecret = errors.New("not a whsec_ secret of 24 to 64 bytes")

// SecretKey is the HMAC key of a secret.
func SecretKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(rest)
	if !ok || err != nil || len(key) < 24 || len(key) > 64 {
		return nil, ErrSecret
	}
	return key, nil
}

// Signature is the webhook-signature header of a message: one "v1,"
// signature per key, separated by spaces. During a rotation both the new
// and the previous secret sign, so a receiver holding either verifies.
func Signature(keys [][]byte, msgID string, at time.Time, body []byte) string {
	signed := msgID + "." + strconv.FormatInt(at.Unix(), 10) + "." + string(body)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(signed))
		parts = append(parts, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(parts, " ")
}
