// Package customers holds the people who own wallets, one row per phone
// number per merchant, with the credentials that identify them.
//
// API for other packages (each takes the caller's transaction's queries):
//
//	Create(ctx, q, NewCustomer) (Customer, error)  ErrPhoneTaken / ErrCredentialTaken on a duplicate
//	Get(ctx, q, merchantID, customerID) (Customer, error)
//	GetByPhone(ctx, q, merchantID, phone) (Customer, error)
//	GetByCardFingerprint(ctx, q, merchantID, fingerprint) (Customer, error)
//	GetByProviderCustomerID(ctx, q, merchantID, id) (Customer, error)
//	UpdateProfile(ctx, q, merchantID, customerID, Profile) (Customer, error)  sets the non-empty fields
package customers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/feddi/partner-api/gen/db"
	"github.com/feddi/partner-api/internal/platform/dbx"
	"github.com/feddi/partner-api/internal/platform/ids"
)

// Customer is a person with a phone number and optional linked credentials.
type Customer struct {
	ID                 string
	MerchantID         string
	DisplayName        string // "" when none was given
	Phone              string // E.164
	CardFingerprint    string // "" when none is linked
	ProviderCustomerID string // "" when none is linked
	CreatedAt          time.Time
}

// NewCustomer is a customer to create.
type NewCustomer struct {
	MerchantID string
	Phone      string
	Profile
}

// Profile holds the optional fields of a customer; empty means unset.
type Profile struct {
	DisplayName        string
	CardFingerprint    string
	ProviderCustomerID string
}

var (
	// ErrNotFound: no such customer for the merchant.
	ErrNotFound = errors.New("no such customer")
	// ErrPhoneTaken: the merchant already has a customer with this phone.
	ErrPhoneTaken = errors.New("a customer with this phone already exists")
	// ErrCredentialTaken: the card fingerprint or provider customer id is
	// already linked to another customer of the merchant.
	ErrCredentialTaken = errors.New("this credential is already linked to another customer")
	// ErrInvalidPhone: not an E.164 number.
	ErrInvalidPhone = errors.New("phone must be in E.164 form")
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// ValidPhone says whether a phone is in E.164 form, the only form stored.
func ValidPhone(phone string) bool { return e164.MatchString(phone) }

// Create inserts a customer.
func Create(ctx context.Context, q *db.Queries, n NewCustomer) (Customer, error) {
	if !ValidPhone(n.Phone) {
		return Customer{}, ErrInvalidPhone
	}
	row, err := q.CustomerInsert(ctx, db.CustomerInsertParams{
		ID:                 ids.New(ids.Customer),
		MerchantID:         n.MerchantID,
		Phone:              n.Phone,
		DisplayName:        dbx.NullString(n.DisplayName),
		CardFingerprint:    dbx.NullString(n.CardFingerprint),
		ProviderCustomerID: dbx.NullString(n.ProviderCustomerID),
	})
	if err != nil {
		return Customer{}, interpretWrite(err)
	}
	return fromRow(row), nil
}

// UpdateProfile sets the non-empty fields of p; the others keep their value.
func UpdateProfile(ctx context.Context, q *db.Queries, merchantID, customerID string, p Profile) (Customer, error) {
	row, err := q.CustomerUpdateProfile(ctx, db.CustomerUpdateProfileParams{
		MerchantID:         merchantID,
		ID:                 customerID,
		DisplayName:        dbx.NullString(p.DisplayName),
		CardFingerprint:    dbx.NullString(p.CardFingerprint),
		ProviderCustomerID: dbx.NullString(p.ProviderCustomerID),
	})
	if err != nil {
		if errors.Is(dbx.Interpret(err), dbx.ErrNotFound) {
			return Customer{}, ErrNotFound
		}
		return Customer{}, interpretWrite(err)
	}
	return fromRow(row), nil
}

// Get reads a customer of the merchant.
func Get(ctx context.Context, q *db.Queries, merchantID, customerID string) (Customer, error) {
	return one(q.CustomerGet(ctx, db.CustomerGetParams{MerchantID: merchantID, ID: customerID}))
}

// GetByPhone finds the merchant's customer with this phone.
func GetByPhone(ctx context.Context, q *db.Queries, merchantID, phone string) (Customer, error) {
	return one(q.CustomerGetByPhone(ctx, db.CustomerGetByPhoneParams{MerchantID: merchantID, Phone: phone}))
}

// GetByCardFingerprint finds the merchant's customer with this card.
func GetByCardFingerprint(ctx context.Context, q *db.Queries, merchantID, fingerprint string) (Customer, error) {
	return one(q.CustomerGetByCardFingerprint(ctx, db.CustomerGetByCardFingerprintParams{MerchantID: merchantID, CardFingerprint: &fingerprint}))
}

// GetByProviderCustomerID finds the merchant's customer with this id of the
// partner's own system.
func GetByProviderCustomerID(ctx context.Context, q *db.Queries, merchantID, providerCustomerID string) (Customer, error) {
	return one(q.CustomerGetByProviderCustomerID(ctx, db.CustomerGetByProviderCustomerIDParams{MerchantID: merchantID, ProviderCustomerID: &providerCustomerID}))
}

func one(row db.Customer, err error) (Customer, error) {
	if err = dbx.Interpret(err); err != nil {
		if errors.Is(err, dbx.ErrNotFound) {
			return Customer{}, ErrNotFound
		}
		return Customer{}, fmt.Errorf("reading customer: %w", err)
	}
	return fromRow(row), nil
}

func interpretWrite(err error) error {
	switch {
	case dbx.IsUniqueViolation(err, "customers_phone_key"):
		return ErrPhoneTaken
	case dbx.IsUniqueViolation(err, "customers_card_fingerprint_key"), dbx.IsUniqueViolation(err, "customers_provider_customer_id_key"):
		return ErrCredentialTaken
	}
	return fmt.Errorf("writing customer: %w", err)
}

func fromRow(r db.Customer) Customer {
	return Customer{
		ID:                 r.ID,
		MerchantID:         r.MerchantID,
		DisplayName:        dbx.String(r.DisplayName),
		Phone:              r.Phone,
		CardFingerprint:    dbx.String(r.CardFingerprint),
		ProviderCustomerID: dbx.String(r.ProviderCustomerID),
		CreatedAt:          r.CreatedAt.UTC(),
	}
}
