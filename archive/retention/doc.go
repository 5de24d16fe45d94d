// Package retention is osmarc's records-management model: retention
// schedules (how long a record is kept, from which cutoff, and what happens
// at the end), disposition dates computed from them with an injected clock,
// legal holds that freeze whatever is in their scope, and the disposition
// of eligible records (plan, approval by distinct people, execution with a
// certificate of destruction).
//
// It follows DoD 5015.02-STD, NARA General Records Schedules (GRS 6.4 for
// public-facing social media content, GRS 5.2 for transitory records) and
// MoReq2010 as far as they apply to social media content: a record's
// retention runs from a cutoff (the end of the calendar or fiscal year of
// its creation, or an event such as the account's deactivation), nothing
// under a hold is destroyed whatever its date, and every decision is a
// journal event. Nothing here calls time.Now: the caller passes the time.
package retention
