package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/osmarc/osmarc/archive/catalog"
)

// Account is an official account in the registry (DAOD 2008-8 §4.3–4.6:
// accounts are approved, registered and eventually deactivated). Every
// change is a journal event; the catalog keeps the current state.
//
// Credentials is a reference, never a secret: "env:NAME" (an environment
// variable) or "file:/path" (a file), read only when a collector runs.
type Account struct {
	Key           string     `json:"key"`
	Platform      string     `json:"platform"`
	Handle        string     `json:"handle"`
	ID            string     `json:"id,omitempty"`
	Name          string     `json:"name,omitempty"`
	Unit          string     `json:"unit,omitempty"`
	Practitioners []string   `json:"practitioners,omitempty"`
	Approval      string     `json:"approval,omitempty"`
	Schedule      string     `json:"schedule,omitempty"`
	Collect       string     `json:"collect,omitempty"`
	Credentials   string     `json:"credentials,omitempty"`
	BaseURL       string     `json:"base_url,omitempty"`
	AllowPrivate  bool       `json:"allow_private,omitempty"`
	Status        string     `json:"status"`
	RegisteredAt  time.Time  `json:"registered_at"`
	RegisteredBy  string     `json:"registered_by,omitempty"`
	DeactivatedAt *time.Time `json:"deactivated_at,omitempty"`
	Reason        string     `json:"deactivation_reason,omitempty"`
}

// Account statuses.
const (
	AccountActive      = "active"
	AccountDeactivated = "deactivated"
)

// Journal event types of the registry.
const (
	EventAccountAdded       = "account.added"
	EventAccountUpdated     = "account.updated"
	EventAccountDeactivated = "account.deactivated"
)

// AccountKey is the registry key of an account: the same "platform/handle"
// prefix its items' keys begin with.
func AccountKey(platform, handle string) string {
	return EscapeKeyPart(strings.ToLower(strings.TrimSpace(platform))) + "/" + EscapeKeyPart(strings.TrimSpace(handle))
}

var reCredRef = regexp.MustCompile(`^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+)$`)

// ErrUnknownAccount: no registered account matches.
var ErrUnknownAccount = errors.New("unknown account")

func (acct *Account) check() error {
	acct.Platform = strings.ToLower(strings.TrimSpace(acct.Platform))
	acct.Handle = strings.TrimSpace(acct.Handle)
	if !rePlatform.MatchString(acct.Platform) {
		return fmt.Errorf("account: platform %q is not a platform name (lower-case letters, digits, '.', '_', '-')", acct.Platform)
	}
	if acct.Handle == "" {
		return fmt.Errorf("account: a handle is required")
	}
	if acct.Credentials != "" && !reCredRef.MatchString(acct.Credentials) {
		return fmt.Errorf("account: credentials must name where to read them, env:VARIABLE or file:/path (osmarc never stores the secret itself)")
	}
	if acct.BaseURL != "" && !strings.HasPrefix(acct.BaseURL, "https://") && !strings.HasPrefix(acct.BaseURL, "http://") {
		return fmt.Errorf("account: base URL %q must start with https:// or http://", acct.BaseURL)
	}
	if acct.Collect != "" && len(strings.Fields(acct.Collect)) != 5 && !strings.HasPrefix(acct.Collect, "@") {
		return fmt.Errorf("account: collect schedule %q is not a cron expression (five fields, or @daily, @hourly, @every 6h)", acct.Collect)
	}
	acct.Key = AccountKey(acct.Platform, acct.Handle)
	return nil
}

// AddAccount registers an account.
func (a *Archive) AddAccount(ctx context.Context, acct Account) (Account, error) {
	if err := acct.check(); err != nil {
		return acct, err
	}
	if _, err := a.cat.Registered(acct.Key); err == nil {
		return acct, fmt.Errorf("account %s is already registered", acct.Key)
	}
	acct.Status = AccountActive
	acct.RegisteredAt = a.now()
	if acct.RegisteredBy == "" {
		acct.RegisteredBy = a.Actor(ctx)
	}
	_, err := a.appendEvent(ctx, EventAccountAdded, map[string]any{"account": acct})
	return acct, err
}

// UpdateAccount changes a registered account; change edits a copy.
func (a *Archive) UpdateAccount(ctx context.Context, ref string, change func(*Account) error) (Account, error) {
	acct, err := a.Account(ref)
	if err != nil {
		return acct, err
	}
	before := acct
	if err := change(&acct); err != nil {
		return before, err
	}
	if acct.Platform != before.Platform || strings.TrimSpace(acct.Handle) != before.Handle {
		return before, fmt.Errorf("account %s: platform and handle cannot change; register the new handle and deactivate the old one", before.Key)
	}
	if err := acct.check(); err != nil {
		return before, err
	}
	changed := changedFields(before, acct)
	if len(changed) == 0 {
		return acct, nil
	}
	_, err = a.appendEvent(ctx, EventAccountUpdated, map[string]any{"account": acct, "changed": changed})
	return acct, err
}

// DeactivateAccount records that an account was closed; its date can start
// a retention cutoff.
func (a *Archive) DeactivateAccount(ctx context.Context, ref, reason string) (Account, error) {
	if strings.TrimSpace(reason) == "" {
		return Account{}, fmt.Errorf("account: deactivation needs a reason")
	}
	acct, err := a.Account(ref)
	if err != nil {
		return acct, err
	}
	if acct.Status == AccountDeactivated {
		return acct, fmt.Errorf("account %s was already deactivated on %s", acct.Key, acct.DeactivatedAt.Format(time.DateOnly))
	}
	now := a.now()
	acct.Status, acct.DeactivatedAt, acct.Reason = AccountDeactivated, &now, reason
	_, err = a.appendEvent(ctx, EventAccountDeactivated, map[string]any{"account": acct, "reason": reason})
	return acct, err
}

// Account finds a registered account by its key ("platform/handle") or,
// when that is unambiguous, by its handle or platform id.
func (a *Archive) Account(ref string) (Account, error) {
	var acct Account
	if b, err := a.cat.Registered(ref); err == nil {
		return acct, json.Unmarshal(b, &acct)
	}
	var found []Account
	accts, err := a.Accounts()
	if err != nil {
		return acct, err
	}
	for _, x := range accts {
		if x.Handle == ref || strings.EqualFold(x.Handle, ref) || (x.ID != "" && x.ID == ref) {
			found = append(found, x)
		}
	}
	switch len(found) {
	case 0:
		return acct, fmt.Errorf("account %q: %w (see osmarc account list)", ref, ErrUnknownAccount)
	case 1:
		return found[0], nil
	}
	var keys []string
	for _, x := range found {
		keys = append(keys, x.Key)
	}
	return acct, fmt.Errorf("account %q is ambiguous: name one of %s", ref, strings.Join(keys, ", "))
}

// Accounts lists the registry in key order.
func (a *Archive) Accounts() ([]Account, error) {
	var out []Account
	for b, err := range a.cat.Registry() {
		if err != nil {
			return nil, err
		}
		var acct Account
		if err := json.Unmarshal(b, &acct); err != nil {
			return nil, err
		}
		out = append(out, acct)
	}
	return out, nil
}

// registerSeen registers, as found by a capture, the accounts its items
// name that the registry does not know yet, and returns their keys.
func (a *Archive) registerSeen(ctx context.Context, keys []string, by string) ([]string, error) {
	var added []string
	for _, k := range keys {
		if _, err := a.cat.Registered(k); err == nil {
			continue
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return added, err
		}
		platform, handle, _ := strings.Cut(k, "/")
		acct := Account{Platform: unescapeKeyPart(platform), Handle: unescapeKeyPart(handle), RegisteredBy: by}
		if _, err := a.AddAccount(ctx, acct); err != nil {
			return added, err
		}
		added = append(added, k)
	}
	return added, nil
}

func changedFields(a, b Account) []string {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var ma, mb map[string]any
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	var out []string
	for k := range mb {
		if fmt.Sprint(ma[k]) != fmt.Sprint(mb[k]) {
			out = append(out, k)
		}
	}
	for k := range ma {
		if _, ok := mb[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func unescapeKeyPart(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+3], "%02X", &c); err == nil {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
