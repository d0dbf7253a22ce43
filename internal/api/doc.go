// Package api defines the JSON bodies of the relay's HTTP API, once, for
// both the relay (which decodes requests and encodes answers) and its
// clients (tech, agent enroll), and the table of every HTTP route with its
// method, path pattern and body types.
//
// The JSON names and omitempty choices of every type here are the wire
// format of PROTOCOL.md section 3; changing one changes the protocol. The
// relay decodes request bodies refusing unknown fields, so a client must
// send only the fields its request type declares. Paths are the constants
// of package protocol, which also names the WebSocket routes.
//
// The package imports nothing from the rest of Tether but protocol.
package api
