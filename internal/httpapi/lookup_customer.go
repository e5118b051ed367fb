package httpapi

import (
	"context"

	"github.com/feddi/partner-api/gen/api"
	"github.com/feddi/partner-api/internal/identity"
	"github.com/feddi/partner-api/internal/platform/apierror"
)

// LookupCustomer is the cashier-panel lookup: nobody found is a 200.
func (s *Server) LookupCustomer(ctx context.Context, req api.LookupCustomerRequestObject) (api.LookupCustomerResponseObject, error) {
	cred, err := lookupCredential(req.Params)
	if err != nil {
		return nil, err
	}
	l, err := s.Identity.Lookup(ctx, callerOf(ctx, nil), cred)
	if err != nil {
		return nil, err
	}
	out := api.CustomerLookup{Result: api.LookupResultNotFound, RecentTransactions: make([]api.Transaction, len(l.Recent))}
	for i, t := range l.Recent {
		out.RecentTransactions[i] = apiTransaction(t)
	}
	if l.Found {
		c := apiCustomerContext(l.Customer)
		out.Result, out.Customer = api.LookupResultFound, &c
	}
	return api.LookupCustomer200JSONResponse{Ok: true, Data: out, Meta: s.meta(ctx)}, nil
}

// lookupCredential takes the one query parameter given; none or several is
// validation_failed naming the first extra one.
func lookupCredential(p api.LookupCustomerParams) (identity.Credential, error) {
	given := []struct {
		name  string
		typ   identity.CredentialType
		value *string
	}{
		{"phone", identity.Phone, p.Phone},
		{"card_fingerprint", identity.CardFingerprint, p.CardFingerprint},
		{"short_code", identity.ShortCode, p.ShortCode},
		{"provider_customer_id", identity.ProviderCustomerID, p.ProviderCustomerId},
	}
	var cred identity.Credential
	found := false
	for _, g := range given {
		if g.value == nil {
			continue
		}
		if found {
			return identity.Credential{}, oneLookupKey().WithField("/query/" + g.name)
		}
		cred, found = identity.Credential{Type: g.typ, Value: *g.value}, true
	}
	if !found {
		return identity.Credential{}, oneLookupKey()
	}
	return cred, nil
}

func oneLookupKey() *apierror.Error {
	return apierror.New(apierror.ValidationFailed, "Give exactly one of phone, card_fingerprint, short_code, provider_customer_id.")
}
