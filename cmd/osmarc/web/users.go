package web

// Where users live: in the archive's journal, as events.
//
// A user, a role change, a disabled account, a new password and a script
// token are each one journal event (user.added, user.role-changed,
// user.disabled, user.enabled, user.password-changed, token.created,
// token.revoked). The journal lives in the store, which is the archive's
// source of truth, so users survive `osmarc rebuild` and the loss of the
// data directory like every other record-management fact; and who was
// given which access, by whom and when, is itself on the hash-chained
// record that auditors read. Events carry only the bcrypt hash of a
// password and the SHA-256 of a token, never the secret itself; the audit
// views withhold even those (see SecretFields). Sessions are not events:
// they live in the server's memory and end when it stops.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/osmarc/osmarc/archive"
)

// Journal event types of users and tokens.
const (
	EventUserAdded           = "user.added"
	EventUserRoleChanged     = "user.role-changed"
	EventUserDisabled        = "user.disabled"
	EventUserEnabled         = "user.enabled"
	EventUserPasswordChanged = "user.password-changed"
	EventTokenCreated        = "token.created"
	EventTokenRevoked        = "token.revoked"
)

// SecretFields are the keys of event data that hold a password hash or a
// token digest; audit views replace their values.
var SecretFields = []string{"password_hash", "token_sha256"}

// Errors of the user registry, tested with errors.Is.
var (
	ErrUnknownUser  = errors.New("no such user")
	ErrUserExists   = errors.New("user already exists")
	ErrBadPassword  = errors.New("unacceptable password")
	ErrUnknownToken = errors.New("no such token")
)

// Password limits. bcrypt reads at most 72 bytes.
const (
	MinPassword = 12
	MaxPassword = 72
)

// DefaultCost is the bcrypt cost of stored passwords.
const DefaultCost = 12

// User is a person who signs in.
type User struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	// PasswordChangedAt is when the password was last set.
	PasswordChangedAt time.Time `json:"password_changed_at"`

	hash []byte
}

// Token is a script's credential for the JSON API, standing for a user.
type Token struct {
	ID        string     `json:"id"`
	User      string     `json:"user"`
	Note      string     `json:"note,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	RevokedBy string     `json:"revoked_by,omitempty"`

	sum [32]byte
}

// Users is the user and token registry, read from the journal. It is safe
// for concurrent use.
type Users struct {
	mu     sync.RWMutex
	users  map[string]*User
	tokens map[string]*Token // by id
	cost   int

	dummyOnce sync.Once
	dummy     []byte
}

var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)

// CheckUserName says what is wrong with a user name, if anything.
func CheckUserName(name string) error {
	if !userNameRE.MatchString(name) {
		return fmt.Errorf("user name %q: use 1 to 64 lower-case letters, digits, '.', '_', '@' or '-', starting with a letter or digit", name)
	}
	return nil
}

// CheckPassword says what is wrong with a new password, if anything.
func CheckPassword(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return fmt.Errorf("%w: not valid UTF-8", ErrBadPassword)
	case utf8.RuneCountInString(pw) < MinPassword:
		return fmt.Errorf("%w: at least %d characters, please", ErrBadPassword, MinPassword)
	case len(pw) > MaxPassword:
		return fmt.Errorf("%w: at most %d bytes (bcrypt reads no more)", ErrBadPassword, MaxPassword)
	}
	return nil
}

// LoadUsers reads the users and tokens from the archive's journal. cost is
// the bcrypt cost of passwords set later (0: DefaultCost).
func LoadUsers(a *archive.Archive, cost int) (*Users, error) {
	if cost == 0 {
		cost = DefaultCost
	}
	u := &Users{users: map[string]*User{}, tokens: map[string]*Token{}, cost: cost}
	for ev, err := range a.Events(1) {
		if err != nil {
			return nil, fmt.Errorf("read users from the journal: %w", err)
		}
		if !strings.HasPrefix(ev.Type, "user.") && !strings.HasPrefix(ev.Type, "token.") {
			continue
		}
		if err := u.apply(ev.Type, ev.Actor, ev.Time, ev.Data); err != nil {
			return nil, fmt.Errorf("journal event %d (%s): %w", ev.Seq, ev.Type, err)
		}
	}
	return u, nil
}

// userEvent is the data of every user and token event.
type userEvent struct {
	Name         string `json:"name,omitempty"`
	Role         Role   `json:"role,omitempty"`
	PasswordHash string `json:"password_hash,omitempty"`
	Reason       string `json:"reason,omitempty"`
	TokenID      string `json:"token_id,omitempty"`
	TokenSHA256  string `json:"token_sha256,omitempty"`
	Note         string `json:"note,omitempty"`
}

func (u *Users) apply(typ, actor string, at time.Time, data []byte) error {
	var d userEvent
	if err := json.Unmarshal(data, &d); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if typ == EventUserAdded {
		u.users[d.Name] = &User{Name: d.Name, Role: d.Role, CreatedAt: at, CreatedBy: actor, PasswordChangedAt: at, hash: []byte(d.PasswordHash)}
		return nil
	}
	if strings.HasPrefix(typ, "token.") {
		switch typ {
		case EventTokenCreated:
			b, err := hex.DecodeString(d.TokenSHA256)
			if err != nil || len(b) != 32 {
				return fmt.Errorf("token %s: bad digest", d.TokenID)
			}
			t := &Token{ID: d.TokenID, User: d.Name, Note: d.Note, CreatedAt: at, CreatedBy: actor}
			copy(t.sum[:], b)
			u.tokens[d.TokenID] = t
		case EventTokenRevoked:
			if t := u.tokens[d.TokenID]; t != nil {
				t.RevokedAt, t.RevokedBy = &at, actor
			}
		}
		return nil
	}
	usr := u.users[d.Name]
	if usr == nil {
		return fmt.Errorf("%w: %s", ErrUnknownUser, d.Name)
	}
	switch typ {
	case EventUserRoleChanged:
		usr.Role = d.Role
	case EventUserDisabled:
		usr.Disabled = true
	case EventUserEnabled:
		usr.Disabled = false
	case EventUserPasswordChanged:
		usr.hash, usr.PasswordChangedAt = []byte(d.PasswordHash), at
	}
	return nil
}

// record writes the event to the journal, then applies it here.
func (u *Users) record(ctx context.Context, a *archive.Archive, typ string, d userEvent) error {
	seq, err := a.RecordEvent(ctx, typ, d)
	if err != nil {
		return err
	}
	for ev, err := range a.Events(seq) {
		if err != nil {
			return err
		}
		return u.apply(ev.Type, ev.Actor, ev.Time, ev.Data)
	}
	return fmt.Errorf("journal event %d was written but cannot be read back", seq)
}

// User returns a copy of the named user.
func (u *Users) User(name string) (User, error) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	usr := u.users[name]
	if usr == nil {
		return User{}, fmt.Errorf("%w: %q", ErrUnknownUser, name)
	}
	return *usr, nil
}

// List returns every user, by name.
func (u *Users) List() []User {
	u.mu.RLock()
	defer u.mu.RUnlock()
	out := make([]User, 0, len(u.users))
	for _, usr := range u.users {
		out = append(out, *usr)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Add creates a user with a role and a password.
func (u *Users) Add(ctx context.Context, a *archive.Archive, name string, role Role, password string) (User, error) {
	if err := CheckUserName(name); err != nil {
		return User{}, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return User{}, err
	}
	if _, err := u.User(name); err == nil {
		return User{}, fmt.Errorf("%w: %q", ErrUserExists, name)
	}
	hash, err := u.hash(password)
	if err != nil {
		return User{}, err
	}
	if err := u.record(ctx, a, EventUserAdded, userEvent{Name: name, Role: role, PasswordHash: string(hash)}); err != nil {
		return User{}, err
	}
	return u.User(name)
}

func (u *Users) hash(password string) ([]byte, error) {
	if err := CheckPassword(password); err != nil {
		return nil, err
	}
	return bcrypt.GenerateFromPassword([]byte(password), u.cost)
}

// SetRole changes a user's role.
func (u *Users) SetRole(ctx context.Context, a *archive.Archive, name string, role Role, reason string) (User, error) {
	usr, err := u.User(name)
	if err != nil {
		return usr, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return usr, err
	}
	if usr.Role == role {
		return usr, nil
	}
	if err := u.record(ctx, a, EventUserRoleChanged, userEvent{Name: name, Role: role, Reason: reason}); err != nil {
		return usr, err
	}
	return u.User(name)
}

// Disable stops a user signing in; their sessions and tokens stop working
// at once (the server checks the user on every request).
func (u *Users) Disable(ctx context.Context, a *archive.Archive, name, reason string) (User, error) {
	return u.setDisabled(ctx, a, name, reason, true)
}

// Enable lets a disabled user sign in again.
func (u *Users) Enable(ctx context.Context, a *archive.Archive, name, reason string) (User, error) {
	return u.setDisabled(ctx, a, name, reason, false)
}

func (u *Users) setDisabled(ctx context.Context, a *archive.Archive, name, reason string, disabled bool) (User, error) {
	usr, err := u.User(name)
	if err != nil {
		return usr, err
	}
	if usr.Disabled == disabled {
		return usr, nil
	}
	typ := EventUserEnabled
	if disabled {
		typ = EventUserDisabled
	}
	if err := u.record(ctx, a, typ, userEvent{Name: name, Reason: reason}); err != nil {
		return usr, err
	}
	return u.User(name)
}

// SetPassword replaces a user's password.
func (u *Users) SetPassword(ctx context.Context, a *archive.Archive, name, password string) (User, error) {
	usr, err := u.User(name)
	if err != nil {
		return usr, err
	}
	hash, err := u.hash(password)
	if err != nil {
		return usr, err
	}
	if err := u.record(ctx, a, EventUserPasswordChanged, userEvent{Name: name, PasswordHash: string(hash)}); err != nil {
		return usr, err
	}
	return u.User(name)
}

// dummyHash is compared against when the user does not exist, so a wrong
// name takes as long as a wrong password.
func (u *Users) dummyHash() []byte {
	u.dummyOnce.Do(func() {
		u.dummy, _ = bcrypt.GenerateFromPassword([]byte("osmarc: no such user, no such password"), u.cost)
	})
	return u.dummy
}

// Authenticate checks a name and password. A disabled or unknown user and
// a wrong password all fail the same way to the caller (ok false); reason
// says which, for the audit log only.
func (u *Users) Authenticate(name, password string) (usr User, ok bool, reason string) {
	u.mu.RLock()
	p := u.users[name]
	var hash []byte
	if p != nil {
		usr, hash = *p, p.hash
	}
	u.mu.RUnlock()
	if p == nil {
		bcrypt.CompareHashAndPassword(u.dummyHash(), []byte(password))
		return User{}, false, "unknown user"
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return usr, false, "wrong password"
	}
	if usr.Disabled {
		return usr, false, "user disabled"
	}
	return usr, true, ""
}

// TokenPrefix starts every API token, so a leaked one is easy to find.
const TokenPrefix = "osmarc_"

// CreateToken makes a token for a user and returns it with the secret,
// which is shown once and stored only as its SHA-256 (a token is 256
// random bits: a fast hash is safe where a password's is not).
func (u *Users) CreateToken(ctx context.Context, a *archive.Archive, user, note string) (Token, string, error) {
	usr, err := u.User(user)
	if err != nil {
		return Token{}, "", err
	}
	if usr.Disabled {
		return Token{}, "", fmt.Errorf("user %q is disabled", user)
	}
	var id [6]byte
	var secret [32]byte
	rand.Read(id[:])
	rand.Read(secret[:])
	tid := hex.EncodeToString(id[:])
	plain := TokenPrefix + tid + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(plain))
	if err := u.record(ctx, a, EventTokenCreated, userEvent{Name: user, TokenID: tid, TokenSHA256: hex.EncodeToString(sum[:]), Note: note}); err != nil {
		return Token{}, "", err
	}
	t, err := u.Token(tid)
	return t, plain, err
}

// Token returns a copy of a token by id.
func (u *Users) Token(id string) (Token, error) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	t := u.tokens[id]
	if t == nil {
		return Token{}, fmt.Errorf("%w: %q", ErrUnknownToken, id)
	}
	return *t, nil
}

// Tokens lists tokens by creation, of one user or (user "") all.
func (u *Users) Tokens(user string) []Token {
	u.mu.RLock()
	defer u.mu.RUnlock()
	var out []Token
	for _, t := range u.tokens {
		if user == "" || t.User == user {
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(a, b Token) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// RevokeToken ends a token. Revoking a revoked token changes nothing.
func (u *Users) RevokeToken(ctx context.Context, a *archive.Archive, id, reason string) (Token, error) {
	t, err := u.Token(id)
	if err != nil || t.RevokedAt != nil {
		return t, err
	}
	if err := u.record(ctx, a, EventTokenRevoked, userEvent{Name: t.User, TokenID: id, Reason: reason}); err != nil {
		return t, err
	}
	return u.Token(id)
}

// TokenUser returns the user a presented token stands for: the token must
// exist, not be revoked, and its user must exist and not be disabled.
func (u *Users) TokenUser(plain string) (User, Token, bool) {
	rest, ok := strings.CutPrefix(plain, TokenPrefix)
	if !ok {
		return User{}, Token{}, false
	}
	id, _, ok := strings.Cut(rest, "_")
	if !ok {
		return User{}, Token{}, false
	}
	sum := sha256.Sum256([]byte(plain))
	u.mu.RLock()
	defer u.mu.RUnlock()
	t := u.tokens[id]
	if t == nil || t.RevokedAt != nil || subtle.ConstantTimeCompare(t.sum[:], sum[:]) != 1 {
		return User{}, Token{}, false
	}
	usr := u.users[t.User]
	if usr == nil || usr.Disabled {
		return User{}, Token{}, false
	}
	return *usr, *t, true
}
