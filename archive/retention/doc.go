// Package retention is osmarc's records-management model: retention
// schedules (how long a record is kept, from which cutoff, and what happens
// at the end), the classification of items (record, secondary copy,
// transitory, non-record, with exemption codes) by ordered rules written
// in the search language and by people, disposition dates computed from
// each item's schedule with an injected clock, legal holds that freeze
// whatever is in their scope, and the disposition of eligible records
// (plan, approval by distinct people, execution with a certificate of
// destruction, transfer as a package for the receiving archive, review).
//
// It follows DoD 5015.02-STD, NARA General Records Schedules (GRS 6.4 for
// public-facing social media content, GRS 5.2 for transitory records) and
// MoReq2010 as far as they apply to social media content: a record's
// retention runs from a cutoff (the end of the calendar or fiscal year of
// its creation, or an event such as the account's deactivation or the
// closing of the open-records request that holds it), nothing under a
// hold or in an open request is destroyed whatever its date, and every
// decision is a journal event. Nothing here calls time.Now: the caller
// passes the time.
//
// What the package guarantees:
//
//   - An item's classification is a person's decision if one is in force,
//     else that of the first rule whose query matches it, else "record
//     under its account's schedule". Rules are evaluated by the search
//     index (a Matcher, RuleMatcher); when the index does not hold every
//     item, anything that needs the rules (a rule change, a plan) fails
//     with ErrNoIndex rather than use the wrong schedule.
//   - A change of the rules is one journal event (rules.changed) holding
//     the new ordered rules and what the change did to every item.
//   - A hold's query is read on the index; an item the index does not hold
//     yet is held.
//   - Bad input (an unknown schedule, a malformed period or cutoff, a rule
//     that does not parse, a plan that no longer matches) is one error,
//     and nothing is recorded.
package retention
