// Package request keeps open-records requests (FOIA, state open-records
// laws, Canada's Access to Information Act): who asked for what and when,
// the due date, the scope as saved searches, the items chosen, the
// exemptions applied and the productions made.
//
// A request is its journal events (request.opened, request.search,
// request.items_added, request.item_removed, request.withheld,
// request.redacted, request.produced, request.closed), which the catalog
// files under the request's id; Get folds them into a Request. Nothing
// here changes an archived item: withholding and redaction shape only the
// copy a production writes.
//
// Due dates come from presets (laws.json, exemptions.json, embedded):
// calendars of business days with holidays computed by rule for any year,
// laws that count business or calendar days, and exemption codes. An
// organisation extends or replaces them with its own file of the same
// form. No function here reads the clock: the caller passes the day.
package request
