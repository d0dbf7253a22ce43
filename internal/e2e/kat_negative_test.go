package e2e

// Negative known-answer vectors: testdata/kat/negative.json lists handshake
// messages and sealed frames a conforming implementation MUST refuse, each
// with the error this package returns. They are derived from the positive
// vectors of handshake.json, so the parties are set up from a positive
// vector's inputs.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// Steps of a negative vector: which party receives the bad input.
const (
	stepRespond         = "responder_respond" // a fresh responder receives client_hello
	stepInitiatorFinish = "initiator_finish"  // the initiator, having sent the vector's ClientHello, receives server_hello
	stepResponderFinish = "responder_finish"  // the responder, having answered the vector's ClientHello, receives client_finish
	stepOpen            = "open"              // a fresh opener for direction receives frames in order
)

// katNegFrame is one payload given to an opener and what must come of it.
type katNegFrame struct {
	AAD           hexBytes `json:"aad"`
	Payload       hexBytes `json:"payload"`
	Plaintext     hexBytes `json:"plaintext,omitempty"`
	ExpectedError string   `json:"expected_error,omitempty"`
}

// katNegative is one input to refuse.
type katNegative struct {
	Name            string        `json:"name"`
	Vector          string        `json:"vector"`
	Description     string        `json:"description"`
	Step            string        `json:"step"`
	ClientHello     hexBytes      `json:"client_hello,omitempty"`
	ServerHello     hexBytes      `json:"server_hello,omitempty"`
	ClientFinish    hexBytes      `json:"client_finish,omitempty"`
	Direction       string        `json:"direction,omitempty"`
	Frames          []katNegFrame `json:"frames,omitempty"`
	ExpectedError   string        `json:"expected_error"`
	ExpectedMessage string        `json:"expected_message"`
}

// katNegFile is testdata/kat/negative.json.
type katNegFile struct {
	Comment []string      `json:"comment"`
	Cases   []katNegative `json:"cases"`
}

var katNegComment = []string{
	"Negative vectors for Tether's end-to-end handshake and sealed channel. Each case names the positive vector of handshake.json whose inputs set up the parties.",
	"step responder_respond: a responder for the vector (its device key, session facts and randomness) receives client_hello and MUST refuse it.",
	"step initiator_finish: the initiator for the vector (its randomness), having sent the vector's client_hello, receives server_hello and MUST refuse it without sending a ClientFinish.",
	"step responder_finish: the responder, having answered the vector's client_hello with the vector's server_hello, receives client_finish and MUST refuse it.",
	"step open: a fresh opener for direction (key k_i2r or k_r2i of the vector, next seq 0) receives frames in order; a frame with plaintext MUST open to it, a frame with expected_error MUST be refused, and an opener that refused a frame MUST refuse every later one.",
	"expected_error names the error of internal/e2e (errors.Is); expected_message is its text. Any refusal ends the session.",
}

// katSentinels maps the names used in the vectors to this package's errors.
var katSentinels = map[string]error{
	"ErrMalformed":      ErrMalformed,
	"ErrVersion":        ErrVersion,
	"ErrSignature":      ErrSignature,
	"ErrCommitment":     ErrCommitment,
	"ErrReplayed":       ErrReplayed,
	"ErrOutOfOrder":     ErrOutOfOrder,
	"ErrAuthentication": ErrAuthentication,
	"ErrTruncated":      ErrTruncated,
}

func flipped(b []byte, pos int) []byte {
	c := append([]byte(nil), b...)
	c[pos] ^= 0x01
	return c
}

func withVersion(b []byte, v uint16) []byte {
	c := append([]byte(nil), b...)
	binary.BigEndian.PutUint16(c, v)
	return c
}

// refServerHelloFor is the ServerHello a responder with other session facts
// or another device key would send for the vector's ClientHello.
func refServerHelloFor(v *katVector, edit func(in *katInputs)) []byte {
	in := v.Inputs
	edit(&in)
	var iv katIntermediates
	return refServerHello(&in, in.SessionID, ed25519.NewKeyFromSeed(in.DeviceSeed), v.Messages.ClientHello, &iv)
}

// refNegatives derives the negative cases from the positive vector v.
func refNegatives(v *katVector) []katNegative {
	ch, sh, cf := v.Messages.ClientHello, v.Messages.ServerHello, v.Messages.ClientFinish
	var i2r, r2i []katFrame
	for _, f := range v.Frames {
		if f.Direction == dirI2R {
			i2r = append(i2r, f)
		} else {
			r2i = append(r2i, f)
		}
	}
	ok := func(f katFrame) katNegFrame {
		return katNegFrame{AAD: f.AAD, Payload: f.Payload, Plaintext: f.Plaintext}
	}
	bad := func(aad, payload []byte, e string) katNegFrame {
		return katNegFrame{AAD: aad, Payload: payload, ExpectedError: e}
	}
	otherSession := append([]byte(nil), v.Inputs.SessionID...)
	otherSession[15] ^= 0x01
	wrongAD := refSeal(v.Outputs.KeyI2R, otherSession, dirI2R, 0, i2r[0].AAD, i2r[0].Plaintext)
	lowOrder := append([]byte(nil), ch...)
	clear(lowOrder[2 : 2+32])
	tail := len(i2r[0].Payload) - 1
	hs := func(name, step, desc, e string) katNegative {
		return katNegative{Name: name, Vector: v.Name, Step: step, Description: desc, ExpectedError: e}
	}
	cases := []katNegative{}
	add := func(c katNegative, set func(*katNegative)) {
		set(&c)
		cases = append(cases, c)
	}
	add(hs("client_hello_wrong_version", stepRespond, "ClientHello with version 2", "ErrVersion"),
		func(c *katNegative) { c.ClientHello = withVersion(ch, 2) })
	add(hs("client_hello_truncated", stepRespond, "ClientHello one byte short", "ErrMalformed"),
		func(c *katNegative) { c.ClientHello = ch[:len(ch)-1] })
	add(hs("client_hello_too_long", stepRespond, "ClientHello with one extra byte", "ErrMalformed"),
		func(c *katNegative) { c.ClientHello = append(append([]byte(nil), ch...), 0) })
	add(hs("client_hello_low_order_x25519", stepRespond, "ClientHello whose X25519 share is the all-zero (low-order) point: the shared secret would be zero", "ErrMalformed"),
		func(c *katNegative) { c.ClientHello = lowOrder })
	add(hs("server_hello_tampered_signature", stepInitiatorFinish, "ServerHello with one bit of the signature flipped", "ErrSignature"),
		func(c *katNegative) { c.ServerHello = flipped(sh, len(sh)-1) })
	add(hs("server_hello_tampered_x25519", stepInitiatorFinish, "ServerHello with one bit of the X25519 share flipped (signed, so the signature fails)", "ErrSignature"),
		func(c *katNegative) { c.ServerHello = flipped(sh, 2) })
	add(hs("server_hello_tampered_mlkem", stepInitiatorFinish, "ServerHello with one bit of the ML-KEM ciphertext flipped", "ErrSignature"),
		func(c *katNegative) { c.ServerHello = flipped(sh, 2+32+100) })
	add(hs("server_hello_other_device_key", stepInitiatorFinish, "ServerHello signed by a device key other than the expected one (device seed with its first byte flipped)", "ErrSignature"),
		func(c *katNegative) {
			c.ServerHello = refServerHelloFor(v, func(in *katInputs) { in.DeviceSeed = flipped(in.DeviceSeed, 0) })
		})
	add(hs("server_hello_wrong_session_id", stepInitiatorFinish, "ServerHello from a responder told another session ID (last byte flipped): the transcript differs", "ErrSignature"),
		func(c *katNegative) {
			c.ServerHello = refServerHelloFor(v, func(in *katInputs) { in.SessionID = otherSession })
		})
	add(hs("server_hello_wrong_tech_user", stepInitiatorFinish, "ServerHello from a responder told another technician username (\"mallory\")", "ErrSignature"),
		func(c *katNegative) {
			c.ServerHello = refServerHelloFor(v, func(in *katInputs) { in.TechUser = "mallory" })
		})
	add(hs("server_hello_wrong_version", stepInitiatorFinish, "ServerHello with version 0", "ErrVersion"),
		func(c *katNegative) { c.ServerHello = withVersion(sh, 0) })
	add(hs("server_hello_truncated", stepInitiatorFinish, "ServerHello one byte short", "ErrMalformed"),
		func(c *katNegative) { c.ServerHello = sh[:len(sh)-1] })
	add(hs("client_finish_wrong_nt", stepResponderFinish, "ClientFinish revealing an Nt with one bit flipped: it does not match the commitment", "ErrCommitment"),
		func(c *katNegative) { c.ClientFinish = flipped(cf, 2) })
	add(hs("client_finish_wrong_version", stepResponderFinish, "ClientFinish with version 2", "ErrVersion"),
		func(c *katNegative) { c.ClientFinish = withVersion(cf, 2) })
	add(hs("client_finish_truncated", stepResponderFinish, "ClientFinish one byte short", "ErrMalformed"),
		func(c *katNegative) { c.ClientFinish = cf[:len(cf)-1] })
	open := func(name, dir, desc, e string, frames ...katNegFrame) {
		add(hs(name, stepOpen, desc, e), func(c *katNegative) { c.Direction, c.Frames = dir, frames })
	}
	open("open_replayed_seq", dirI2R, "seq 0, then seq 0 again", "ErrReplayed",
		ok(i2r[0]), bad(i2r[0].AAD, i2r[0].Payload, "ErrReplayed"))
	open("open_replayed_older_seq", dirR2I, "seq 0, 1, 2, then seq 1 again", "ErrReplayed",
		ok(r2i[0]), ok(r2i[1]), ok(r2i[2]), bad(r2i[1].AAD, r2i[1].Payload, "ErrReplayed"))
	open("open_skipped_seq", dirI2R, "seq 1 first: seq 0 was dropped", "ErrOutOfOrder",
		bad(i2r[1].AAD, i2r[1].Payload, "ErrOutOfOrder"))
	open("open_reordered_seq", dirR2I, "seq 0, then seq 2 before seq 1", "ErrOutOfOrder",
		ok(r2i[0]), bad(r2i[2].AAD, r2i[2].Payload, "ErrOutOfOrder"))
	open("open_wrong_session_id", dirI2R, "seq 0 sealed under k_i2r with another session ID (last byte flipped) in the associated data", "ErrAuthentication",
		bad(wrongAD.AAD, wrongAD.Payload, "ErrAuthentication"))
	open("open_tampered_ciphertext", dirI2R, "seq 0 with one bit of the ciphertext flipped", "ErrAuthentication",
		bad(i2r[0].AAD, flipped(i2r[0].Payload, 8), "ErrAuthentication"))
	open("open_tampered_tag", dirI2R, "seq 0 with one bit of the tag flipped", "ErrAuthentication",
		bad(i2r[0].AAD, flipped(i2r[0].Payload, tail), "ErrAuthentication"))
	open("open_wrong_direction", dirI2R, "responder->initiator seq 0 given to the initiator->responder opener (reflected frame)", "ErrAuthentication",
		bad(r2i[0].AAD, r2i[0].Payload, "ErrAuthentication"))
	open("open_wrong_frame_type", dirI2R, "seq 0 opened with aad 0x30 instead of the 0x20 it was sealed with", "ErrAuthentication",
		bad([]byte{0x30}, i2r[0].Payload, "ErrAuthentication"))
	open("open_truncated", dirR2I, "23 bytes: shorter than seq (8) and tag (16)", "ErrTruncated",
		bad(r2i[0].AAD, r2i[0].Payload[:23], "ErrTruncated"))
	open("open_stays_failed", dirI2R, "a tampered seq 0, then the genuine seq 0: the opener stays failed", "ErrAuthentication",
		bad(i2r[0].AAD, flipped(i2r[0].Payload, 8), "ErrAuthentication"), bad(i2r[0].AAD, i2r[0].Payload, "ErrAuthentication"))
	for i := range cases {
		cases[i].ExpectedMessage = katSentinels[cases[i].ExpectedError].Error()
	}
	return cases
}

// runNegative feeds one case to this package and returns the error of the
// step (for open, of the first refused frame), checking every frame.
func runNegative(t *testing.T, v *katVector, c *katNegative) error {
	t.Helper()
	switch c.Step {
	case stepRespond:
		_, err := katResponder(&v.Inputs, v.Inputs.SessionID, v.Inputs.DeviceSeed).Respond(c.ClientHello)
		return err
	case stepInitiatorFinish:
		i, _, err := katInitiator(&v.Inputs)
		if err != nil {
			t.Fatalf("newInitiator: %v", err)
		}
		cf, s, err := i.Finish(c.ServerHello)
		if err != nil && (cf != nil || s != nil) {
			t.Errorf("Finish failed but returned a ClientFinish or a Session")
		}
		return err
	case stepResponderFinish:
		r := katResponder(&v.Inputs, v.Inputs.SessionID, v.Inputs.DeviceSeed)
		if sh, err := r.Respond(v.Messages.ClientHello); err != nil || !bytes.Equal(sh, v.Messages.ServerHello) {
			t.Fatalf("Respond to the vector's ClientHello: %v (or a ServerHello other than the vector's)", err)
		}
		_, err := r.Finish(c.ClientFinish)
		return err
	case stepOpen:
		return runNegativeOpen(t, v, c)
	}
	t.Fatalf("unknown step %q", c.Step)
	return nil
}

func runNegativeOpen(t *testing.T, v *katVector, c *katNegative) error {
	t.Helper()
	is, rs := katSessions(t, v)
	o := rs.Recv
	if c.Direction == dirR2I {
		o = is.Recv
	}
	var first error
	for k, f := range c.Frames {
		pt, err := o.Open(nil, f.AAD, f.Payload)
		if f.ExpectedError == "" {
			if err != nil || !bytes.Equal(pt, f.Plaintext) {
				t.Errorf("frame %d: got %x, %v; want plaintext %x", k, pt, err, f.Plaintext)
			}
			continue
		}
		if want := katSentinels[f.ExpectedError]; !errors.Is(err, want) {
			t.Errorf("frame %d: got error %v, want %s", k, err, f.ExpectedError)
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// TestKnownAnswerNegative checks testdata/kat/negative.json: the cases are
// recomputed from the positive vectors, and this package refuses each with
// the expected error.
func TestKnownAnswerNegative(t *testing.T) {
	if *updateKAT {
		// Derived from the definitions, not the file: this test may run
		// before TestKnownAnswerHandshake rewrites it.
		v := refVector(katDefinitions()[0].name, katDefinitions()[0].in)
		f := katNegFile{Comment: katNegComment, Cases: refNegatives(&v)}
		writeKAT(t, katNegativeFile, &f)
	}
	var pos katFile
	readKAT(t, katHandshakeFile, &pos)
	var f katNegFile
	readKAT(t, katNegativeFile, &f)
	if !reflect.DeepEqual(f.Comment, katNegComment) {
		t.Error("the file's comment is out of date (regenerate with -update)")
	}
	want := refNegatives(&pos.Vectors[0])
	if len(f.Cases) != len(want) {
		t.Fatalf("file has %d cases, recomputed %d (regenerate with -update)", len(f.Cases), len(want))
	}
	vectors := map[string]*katVector{}
	for i := range pos.Vectors {
		vectors[pos.Vectors[i].Name] = &pos.Vectors[i]
	}
	for i := range f.Cases {
		c := &f.Cases[i]
		t.Run(c.Name, func(t *testing.T) {
			diffJSON(t, c.Name, want[i], c)
			v, ok := vectors[c.Vector]
			if !ok {
				t.Fatalf("no positive vector %q", c.Vector)
			}
			sentinel, ok := katSentinels[c.ExpectedError]
			if !ok {
				t.Fatalf("unknown expected error %q", c.ExpectedError)
			}
			err := runNegative(t, v, c)
			if !errors.Is(err, sentinel) {
				t.Fatalf("got %v, want %s (%q)", err, c.ExpectedError, c.ExpectedMessage)
			}
			if !isProtocolError(err) && c.Step != stepOpen {
				t.Errorf("handshake error %v wraps no handshake sentinel", err)
			}
		})
	}
}
