package web

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what a user is allowed to do, as a whole.
type Role string

// The roles. Each is a set of duties, not a rank: an admin manages users
// and accounts but does not place holds or see unredacted personal
// information; a records officer does not manage users.
const (
	// RoleViewer searches and reads; personal information and exempt
	// items are shown redacted.
	RoleViewer Role = "viewer"
	// RoleRecordsOfficer handles open-records requests, classification,
	// schedules and disposition plans, and sees items unredacted.
	RoleRecordsOfficer Role = "records-officer"
	// RoleLegal places and releases holds, exports, approves disposition
	// plans (as the second person) and sees items unredacted.
	RoleLegal Role = "legal"
	// RoleAdmin manages users, tokens and the account registry.
	RoleAdmin Role = "admin"
)

// Roles lists every role in the order the README's table shows them.
var Roles = []Role{RoleViewer, RoleRecordsOfficer, RoleLegal, RoleAdmin}

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Roles, r) {
		return r, nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", fmt.Errorf("role %q: want one of %s", s, strings.Join(names, ", "))
}

// Permission is one thing a handler does. Every route names the one it
// needs; the table below says which roles hold it.
type Permission string

// The permissions.
const (
	// PermPublic: no sign-in needed (the sign-in page, static assets,
	// the OpenAPI document).
	PermPublic Permission = "public"
	// PermSignedIn: any signed-in user (sign-out, their own session).
	PermSignedIn Permission = "signed-in"
	// PermSearch: run searches.
	PermSearch Permission = "search"
	// PermRead: read items, threads, versions, media, accounts.
	PermRead Permission = "read"
	// PermReadUnredacted: see personal information and exempt items
	// unredacted. Without it, handlers redact (see Server.Redact).
	PermReadUnredacted Permission = "read-unredacted"
	// PermRequests: open, change and produce open-records requests.
	PermRequests Permission = "requests"
	// PermRequestsView: list and read requests.
	PermRequestsView Permission = "requests-view"
	// PermClassify: classify items and manage classification rules.
	PermClassify Permission = "classify"
	// PermSchedules: add and change retention schedules.
	PermSchedules Permission = "schedules"
	// PermRetentionView: read schedules, plans, certificates and holds.
	PermRetentionView Permission = "retention-view"
	// PermDispositionPlan: plan and execute disposition.
	PermDispositionPlan Permission = "disposition-plan"
	// PermDispositionApprove: approve a plan someone else made.
	PermDispositionApprove Permission = "disposition-approve"
	// PermHolds: place and release legal holds.
	PermHolds Permission = "holds"
	// PermExport: export selections.
	PermExport Permission = "export"
	// PermAccounts: register, change and deactivate accounts.
	PermAccounts Permission = "accounts"
	// PermUsers: manage users and tokens.
	PermUsers Permission = "users"
	// PermAudit: read the journal and check its hash chain.
	PermAudit Permission = "audit"
)

// permissions is the table every handler is checked against (README:
// "Web application", roles). Change both together.
var permissions = map[Role][]Permission{
	RoleViewer: {PermSignedIn, PermSearch, PermRead},
	RoleRecordsOfficer: {PermSignedIn, PermSearch, PermRead, PermReadUnredacted,
		PermRequests, PermRequestsView, PermClassify, PermSchedules, PermRetentionView,
		PermDispositionPlan, PermDispositionApprove, PermAudit},
	RoleLegal: {PermSignedIn, PermSearch, PermRead, PermReadUnredacted,
		PermRequestsView, PermRetentionView, PermDispositionApprove, PermHolds, PermExport, PermAudit},
	RoleAdmin: {PermSignedIn, PermSearch, PermRead, PermAccounts, PermUsers, PermAudit},
}

// Allowed reports whether role holds perm. PermPublic is everyone's.
func Allowed(role Role, perm Permission) bool {
	if perm == PermPublic {
		return true
	}
	return slices.Contains(permissions[role], perm)
}

// RolesWith lists the roles holding perm.
func RolesWith(perm Permission) []Role {
	var out []Role
	for _, r := range Roles {
		if Allowed(r, perm) {
			out = append(out, r)
		}
	}
	return out
}
