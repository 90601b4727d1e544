// Package app is nodediag's application layer: each operation is one function with one request
// type and one result type, and the two faces — the CLI and the MCP server — only parse their
// arguments into the request and render the result. Logic written once cannot diverge: before
// this package the CLI's `errors` kept a window's samples inside the window and the MCP tool's
// did not, and time windows were parsed in four places.
//
// Messages name the parameter as the face that reads them spells it: a request carries the
// face's Names, so the CLI says --incident-time and the MCP server incident_time.
package app
