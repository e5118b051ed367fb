package httpapi

import (
	"strconv"
	"strings"

	"github.com/feddi/partner-api/internal/auth"
	"github.com/feddi/partner-api/internal/checkout"
	"github.com/feddi/partner-api/internal/enrollment"
	"github.com/feddi/partner-api/internal/events"
	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/payments"
	"github.com/feddi/partner-api/internal/platform/fielderr"
	"github.com/feddi/partner-api/internal/platform/keyset"
	"github.com/feddi/partner-api/internal/qr"
	"github.com/feddi/partner-api/internal/sms"
	"github.com/feddi/partner-api/internal/topup"
	"github.com/feddi/partner-api/internal/transactions"
	"github.com/feddi/partner-api/internal/wallets"
	"github.com/feddi/partner-api/internal/webhooks"
)

// fieldPointer is where a domain's input sits in the request: a JSON
// pointer into the request (/data/... for the body, /query/... for a query
// parameter), with "*" for each list index the error carries, and the
// operations whose requests carry the input.
type fieldPointer struct {
	pointer string
	ops     []string
	// absent, when set, says why the pointer is not in the operations'
	// requests: a field the wire reported before this table existed.
	absent string
}

// fieldPointers is the ONE table from the inputs the domains name in their
// own terms (fielderr.Field) to the request document's JSON pointers; no
// other place in the code writes a pointer for a domain error. A domain
// field is keyed once, by its input type: a field that reaches two
// operations through the same input maps to the same pointer in both. A
// test resolves every pointer in the request schema of each operation, and
// checks that every field a domain declares is here.
var fieldPointers = map[fielderr.Field]fieldPointer{
	// auth
	auth.FieldKeyName:      {pointer: "/data/name", ops: []string{"createApiKey"}},
	auth.FieldKeyScopes:    {pointer: "/data/scopes", ops: []string{"createApiKey"}},
	auth.FieldKeyScope:     {pointer: "/data/scopes/*", ops: []string{"createApiKey"}},
	auth.FieldKeyRole:      {pointer: "/data/role", ops: []string{"createApiKey"}},
	auth.FieldKeyExpiresAt: {pointer: "/data/expires_at", ops: []string{"createApiKey"}},
	auth.FieldRegeneratedKey: {pointer: "/data/scopes", ops: []string{"regenerateApiKey"},
		absent: "regenerating a key restored from before migration 00009 that holds an exclusive pair; the wire has always named /data/scopes"},
	auth.FieldListLimit:  {pointer: "/query/limit", ops: []string{"listApiKeys"}},
	auth.FieldListCursor: {pointer: "/query/cursor", ops: []string{"listApiKeys"}},
	auth.FieldTerminalID: {pointer: "/data/terminal_id", ops: []string{"createTerminalToken"}},
	auth.FieldTokenScope: {pointer: "/data/scopes/*", ops: []string{"createTerminalToken"}},

	// identity
	identity.FieldCredentialValue: {pointer: "/data/credential/value", ops: []string{"identifyCustomer", "identifyCheckoutSession"}},

	// enrollment
	enrollment.FieldPhone:                     {pointer: "/data/phone", ops: []string{"initiateEnrollment"}},
	enrollment.FieldCurrency:                  {pointer: "/data/currency", ops: []string{"initiateEnrollment"}},
	enrollment.FieldWelcomeGrantAmount:        {pointer: "/data/welcome_grant/amount_minor", ops: []string{"initiateEnrollment"}},
	enrollment.FieldWelcomeGrantExpiresInDays: {pointer: "/data/welcome_grant/expires_in_days", ops: []string{"initiateEnrollment"}},
	enrollment.FieldCardFingerprint:           {pointer: "/data/card_fingerprint", ops: []string{"initiateEnrollment"}},
	enrollment.FieldProviderCustomerID:        {pointer: "/data/provider_customer_id", ops: []string{"initiateEnrollment"}},
	enrollment.FieldTarget:                    {pointer: "/data", ops: []string{"verifyEnrollment", "resendEnrollment"}},
	enrollment.FieldTargetPhone:               {pointer: "/data/phone", ops: []string{"verifyEnrollment", "resendEnrollment"}},
	enrollment.FieldProof:                     {pointer: "/data", ops: []string{"verifyEnrollment"}},
	enrollment.FieldProofCode:                 {pointer: "/data/code", ops: []string{"verifyEnrollment"}},
	enrollment.FieldProofLinkToken:            {pointer: "/data/link_token", ops: []string{"verifyEnrollment"}},
	wallets.FieldNewWalletCurrency:            {pointer: "/data/currency", ops: []string{"initiateEnrollment"}},

	// payments, checkout, QR
	payments.FieldAmount:                 {pointer: "/data/amount_minor", ops: []string{"createPayment"}},
	payments.FieldCurrency:               {pointer: "/data/currency", ops: []string{"createPayment"}},
	payments.FieldCredential:             {pointer: "/data/credential", ops: []string{"createPayment"}},
	payments.FieldCredentialPhone:        {pointer: "/data/credential/phone", ops: []string{"createPayment"}},
	payments.FieldCredentialChallengeID:  {pointer: "/data/credential/challenge_id", ops: []string{"createPayment"}},
	payments.FieldCredentialCode:         {pointer: "/data/credential/code", ops: []string{"createPayment"}},
	payments.FieldCaptureAmount:          {pointer: "/data/amount_minor", ops: []string{"capturePayment"}},
	payments.FieldRefundAmount:           {pointer: "/data/amount_minor", ops: []string{"refundPayment"}},
	qr.FieldValue:                        {pointer: "/data/credential/value", ops: []string{"createPayment"}},
	checkout.FieldSessionRequestCurrency: {pointer: "/data/currency", ops: []string{"createCheckoutSession"}},
	checkout.FieldPaymentCurrency:        {pointer: "/data/currency", ops: []string{"createPayment"}},
	checkout.FieldPaymentAmount:          {pointer: "/data/amount_minor", ops: []string{"createPayment"}},
	checkout.FieldCompletingPayment:      {pointer: "/data/partial_authorization", ops: []string{"createPayment"}},

	// top-ups, SKUs, reload bonus, wallets
	topup.FieldConfirmationCurrency:            {pointer: "/data/currency", ops: []string{"confirmTopup"}},
	topup.FieldConfirmationSettlementReference: {pointer: "/data/settlement_reference", ops: []string{"confirmTopup"}},
	wallets.FieldCreditAmount:                  {pointer: "/data/amount_minor", ops: []string{"confirmTopup"}},
	topup.FieldSaleWalletID:                    {pointer: "/data/wallet_id", ops: []string{"createSkuTopup"}},
	topup.FieldSkuCurrency:                     {pointer: "/data/currency", ops: []string{"upsertSku"}},
	topup.FieldReloadCurrency:                  {pointer: "/data/currency", ops: []string{"setReloadBonusConfig"}},
	topup.FieldReloadTiers:                     {pointer: "/data/tiers", ops: []string{"setReloadBonusConfig"}},
	topup.FieldReloadTier:                      {pointer: "/data/tiers/*", ops: []string{"setReloadBonusConfig"}},
	topup.FieldReloadTierMaxBonus:              {pointer: "/data/tiers/*/max_bonus_minor", ops: []string{"setReloadBonusConfig"}},
	topup.FieldReloadTierMinTopup:              {pointer: "/data/tiers/*/min_topup_minor", ops: []string{"setReloadBonusConfig"}},
	topup.FieldReloadBonusCurrency:             {pointer: "/query/currency", ops: []string{"getReloadBonusConfig"}},

	// listings
	keyset.FieldCursor:             {pointer: "/query/cursor", ops: []string{"listCustomerGrants", "listTransactions", "listSkus", "listEvents", "listWebhookEndpoints", "listWebhookDeliveries"}},
	transactions.FieldCreatedAfter: {pointer: "/query/created_after", ops: []string{"listTransactions"}},
	events.FieldCreatedAfter:       {pointer: "/query/created_after", ops: []string{"listEvents"}},
	webhooks.FieldURL:              {pointer: "/data/url", ops: []string{"createWebhookEndpoint"}},
	sms.FieldListCursor:            {pointer: "/query/cursor", ops: []string{"listSandboxMessages"}},
}

// pointerOf is the JSON pointer of a domain's input, its list indexes
// filled in; "" for a field the table does not know (a test holds that to
// none).
func pointerOf(in fielderr.Input) string {
	fp, ok := fieldPointers[in.Field]
	if !ok {
		return ""
	}
	p := fp.pointer
	for _, i := range in.Index {
		p = strings.Replace(p, "*", strconv.Itoa(i), 1)
	}
	return p
}
