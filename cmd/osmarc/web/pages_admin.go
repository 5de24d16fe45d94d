package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/osmarc/osmarc/archive"
)

// The admin's pages: users (add, role, disable and enable, reset the
// password), API tokens (create, shown once; revoke) and the account
// registry (register, change, deactivate). They call the same Users and
// archive functions as the API and the CLI, so every change is the same
// journal event with the signed-in admin as its actor.

type usersPage struct {
	Users  []User
	Tokens []Token
	Roles  []Role
	Me     string
	// Secret is a token just created: shown on this one answer, never
	// again.
	Secret, SecretID, SecretUser string
}

func (s *Server) usersPage(r *http.Request) *usersPage {
	p := &usersPage{Users: s.users.List(), Tokens: s.users.Tokens(""), Roles: Roles, Me: UserFrom(r.Context()).Name}
	slices.SortFunc(p.Users, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return p
}

func (s *Server) pageUsers(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "users", "Users and tokens", s.usersPage(r))
}

func (s *Server) pageUserAdd(w http.ResponseWriter, r *http.Request) {
	if err := required(r, "name", "role", "password"); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	role, err := ParseRole(r.PostFormValue("role"))
	if err != nil {
		s.Fail(w, r, badInput(err.Error()), "role")
		return
	}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		s.Fail(w, r, badInput("password: the two passwords differ"), "password")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	err = s.Write(r.Context(), func(ctx context.Context) error {
		_, err := s.users.Add(ctx, s.a, name, role, r.PostFormValue("password"))
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "name")
		return
	}
	done(w, r, "/admin/users", "User "+name+" added as "+string(role)+".")
}

// pageUserChange does one thing to a user, named by the form's action:
// role (with role), disable, enable, or password (with password and
// password2). Disabling or a new password ends the user's sessions.
func (s *Server) pageUserChange(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, err := s.users.User(name); err != nil {
		s.Fail(w, r, err, "name")
		return
	}
	reason := r.PostFormValue("reason")
	var msg string
	var change func(ctx context.Context) error
	switch action := r.PostFormValue("action"); action {
	case "role":
		role, err := ParseRole(r.PostFormValue("role"))
		if err != nil {
			s.Fail(w, r, badInput(err.Error()), "role")
			return
		}
		change = func(ctx context.Context) error { _, err := s.users.SetRole(ctx, s.a, name, role, reason); return err }
		msg = name + " is now " + string(role) + "."
	case "disable", "enable":
		if action == "disable" && name == UserFrom(r.Context()).Name {
			s.Fail(w, r, badInput("you cannot disable yourself; ask another admin"), "action")
			return
		}
		if strings.TrimSpace(reason) == "" {
			s.Fail(w, r, badInput("reason is required"), "reason")
			return
		}
		change = func(ctx context.Context) error {
			var err error
			if action == "disable" {
				_, err = s.users.Disable(ctx, s.a, name, reason)
			} else {
				_, err = s.users.Enable(ctx, s.a, name, reason)
			}
			return err
		}
		msg = name + " is " + action + "d."
	case "password":
		pw := r.PostFormValue("password")
		if pw != r.PostFormValue("password2") {
			s.Fail(w, r, badInput("password: the two passwords differ"), "password")
			return
		}
		if err := CheckPassword(pw); err != nil {
			s.Fail(w, r, asInput(err), "password")
			return
		}
		change = func(ctx context.Context) error { _, err := s.users.SetPassword(ctx, s.a, name, pw); return err }
		msg = name + "'s password was reset; their sessions ended."
	default:
		s.Fail(w, r, badInput("action: want role, disable, enable or password"), "action")
		return
	}
	if err := s.Write(r.Context(), change); err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	if a := r.PostFormValue("action"); a == "disable" || a == "password" {
		s.sessions.deleteUser(name)
	}
	done(w, r, "/admin/users", msg)
}

// pageTokenCreate makes an API token and shows its secret on this one
// answer (it is not redirected: a secret never goes into a URL).
func (s *Server) pageTokenCreate(w http.ResponseWriter, r *http.Request) {
	user := strings.TrimSpace(r.PostFormValue("user"))
	if err := required(r, "user"); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	var t Token
	var secret string
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		t, secret, err = s.users.CreateToken(ctx, s.a, user, r.PostFormValue("note"))
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "user")
		return
	}
	p := s.usersPage(r)
	p.Secret, p.SecretID, p.SecretUser = secret, t.ID, t.User
	s.render(w, r, http.StatusCreated, "users", "Users and tokens", p)
}

func (s *Server) pageTokenRevoke(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := required(r, "reason"); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	var t Token
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		t, err = s.users.RevokeToken(ctx, s.a, id, r.PostFormValue("reason"))
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "id")
		return
	}
	done(w, r, "/admin/users", "Token "+t.ID+" of "+t.User+" revoked.")
}

// accountForm reads the account fields of the register and change forms.
func accountForm(r *http.Request, acct *archive.Account) {
	f := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	acct.ID, acct.Name, acct.Unit, acct.Approval = f("id"), f("name"), f("unit"), f("approval")
	acct.Schedule, acct.Collect, acct.Credentials, acct.BaseURL = f("schedule"), f("collect"), f("credentials"), f("base_url")
	acct.Practitioners = nil
	for _, p := range strings.Split(r.PostFormValue("practitioners"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			acct.Practitioners = append(acct.Practitioners, p)
		}
	}
}

// checkAccountSchedules refuses a retention schedule that is not defined
// or a collect schedule that does not parse, before anything is recorded.
func (s *Server) checkAccountSchedules(acct archive.Account) error {
	if acct.Schedule != "" {
		if _, err := s.records.Schedule(acct.Schedule); err != nil {
			return badInput("schedule: " + err.Error())
		}
	}
	return nil
}

func (s *Server) pageAccountAdd(w http.ResponseWriter, r *http.Request) {
	if err := required(r, "platform", "handle"); err != nil {
		s.Fail(w, r, err, "")
		return
	}
	acct := archive.Account{Platform: r.PostFormValue("platform"), Handle: r.PostFormValue("handle")}
	accountForm(r, &acct)
	if err := s.checkAccountSchedules(acct); err != nil {
		s.Fail(w, r, err, "schedule")
		return
	}
	var out archive.Account
	err := s.Write(r.Context(), func(ctx context.Context) error {
		var err error
		out, err = s.a.AddAccount(ctx, acct)
		return err
	})
	if err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	done(w, r, accountURL(out.Key), "Account "+out.Key+" registered.")
}

// pageAccountChange changes a registered account (action=update, the
// register form's fields) or deactivates it (action=deactivate, with a
// reason).
func (s *Server) pageAccountChange(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if _, err := s.a.Account(key); err != nil {
		s.Fail(w, r, err, "key")
		return
	}
	var out archive.Account
	var msg string
	var err error
	switch r.PostFormValue("action") {
	case "update":
		var probe archive.Account
		accountForm(r, &probe)
		if err := s.checkAccountSchedules(probe); err != nil {
			s.Fail(w, r, err, "schedule")
			return
		}
		err = s.Write(r.Context(), func(ctx context.Context) error {
			var err error
			out, err = s.a.UpdateAccount(ctx, key, func(a *archive.Account) error { accountForm(r, a); return nil })
			return err
		})
		msg = "Account " + key + " changed."
	case "deactivate":
		if err := required(r, "reason"); err != nil {
			s.Fail(w, r, err, "")
			return
		}
		err = s.Write(r.Context(), func(ctx context.Context) error {
			var err error
			out, err = s.a.DeactivateAccount(ctx, key, r.PostFormValue("reason"))
			return err
		})
		msg = "Account " + key + " deactivated."
	default:
		s.Fail(w, r, badInput("action: want update or deactivate"), "action")
		return
	}
	if err != nil {
		s.Fail(w, r, asInput(err), "")
		return
	}
	done(w, r, accountURL(out.Key), msg)
}
