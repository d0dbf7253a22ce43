package e2e

// Known-answer vectors for the handshake, the key schedule and the sealed
// channel. testdata/kat/handshake.json holds, for a few fixed inputs (every
// random value included), every intermediate value and output; a second
// implementation can check itself against it without Go. The test below
// recomputes each vector twice: once with a reference written here from
// the specification (doc.go, PROTOCOL.md section 5) using only the standard
// primitives, and once by running this package's Initiator, Responder,
// Sealer and Opener on the same randomness. Both must match the file byte
// for byte. Regenerate the files with
//
//	go test ./internal/e2e/ -run 'TestKnownAnswer' -update

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/tether-support/tether/internal/ids"
)

var updateKAT = flag.Bool("update", false, "rewrite testdata/kat/*.json from the reference computation")

const (
	katDir           = "testdata/kat"
	katHandshakeFile = "handshake.json"
	katNegativeFile  = "negative.json"
	dirI2R           = "initiator->responder"
	dirR2I           = "responder->initiator"
)

// hexBytes is a byte string written as lowercase hex in JSON.
type hexBytes []byte

func (h hexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("hex field: %w", err)
	}
	*h = d
	return nil
}

// katInputs are everything a handshake depends on, randomness included.
type katInputs struct {
	SessionID  hexBytes   `json:"session_id"`
	TechID     string     `json:"tech_id"`
	TechUser   string     `json:"tech_user"`
	DeviceSeed hexBytes   `json:"device_ed25519_seed"`
	IX25519    hexBytes   `json:"initiator_x25519_private"`
	IMLKEMSeed hexBytes   `json:"initiator_mlkem_seed"`
	Nt         hexBytes   `json:"nt"`
	RX25519    hexBytes   `json:"responder_x25519_private"`
	RMLKEMRand hexBytes   `json:"responder_mlkem_encaps_random"`
	FramesI2R  []hexBytes `json:"plaintexts_initiator_to_responder"`
	FramesR2I  []hexBytes `json:"plaintexts_responder_to_initiator"`
}

// katIntermediates are the values computed on the way.
type katIntermediates struct {
	DevicePublic  hexBytes `json:"device_ed25519_public"`
	IX25519Public hexBytes `json:"initiator_x25519_public"`
	IMLKEMEK      hexBytes `json:"initiator_mlkem_encapsulation_key"`
	Commit        hexBytes `json:"commit"`
	RX25519Public hexBytes `json:"responder_x25519_public"`
	MLKEMCT       hexBytes `json:"mlkem_ciphertext"`
	MLKEMShared   hexBytes `json:"mlkem_shared_secret"`
	X25519Shared  hexBytes `json:"x25519_shared_secret"`
	Secret        hexBytes `json:"secret"`
	TH1Prefix     hexBytes `json:"th1_params_encoding"`
	TH1           hexBytes `json:"th1"`
	SignedMessage hexBytes `json:"signed_message"`
	Signature     hexBytes `json:"signature"`
	TH2           hexBytes `json:"th2"`
	PRK           hexBytes `json:"prk"`
	CodeBytes     hexBytes `json:"security_code_bytes"`
}

// katMessages are the three handshake messages and their WebSocket frames.
type katMessages struct {
	ClientHello       hexBytes `json:"client_hello"`
	ServerHello       hexBytes `json:"server_hello"`
	ClientFinish      hexBytes `json:"client_finish"`
	ClientHelloFrame  hexBytes `json:"client_hello_websocket_message"`
	ServerHelloFrame  hexBytes `json:"server_hello_websocket_message"`
	ClientFinishFrame hexBytes `json:"client_finish_websocket_message"`
}

// katOutputs are what the handshake establishes.
type katOutputs struct {
	KeyI2R       hexBytes `json:"k_i2r"`
	KeyR2I       hexBytes `json:"k_r2i"`
	SecurityCode string   `json:"security_code"`
	Exporter     hexBytes `json:"exporter"`
}

// katFrame is one sealed frame.
type katFrame struct {
	Direction      string   `json:"direction"`
	Seq            uint64   `json:"seq"`
	AAD            hexBytes `json:"aad"`
	Plaintext      hexBytes `json:"plaintext"`
	Nonce          hexBytes `json:"nonce"`
	AssociatedData hexBytes `json:"associated_data"`
	Payload        hexBytes `json:"payload"`
	Message        hexBytes `json:"websocket_message"`
}

// katVector is one complete known-answer vector.
type katVector struct {
	Name          string           `json:"name"`
	Inputs        katInputs        `json:"inputs"`
	Intermediates katIntermediates `json:"intermediates"`
	Messages      katMessages      `json:"messages"`
	Outputs       katOutputs       `json:"outputs"`
	Frames        []katFrame       `json:"frames"`
}

// katFile is testdata/kat/handshake.json.
type katFile struct {
	Comment []string    `json:"comment"`
	Vectors []katVector `json:"vectors"`
}

var katComment = []string{
	"Known-answer vectors for Tether's end-to-end handshake, key schedule and sealed frames (internal/e2e/doc.go, internal/protocol/PROTOCOL.md section 5).",
	"Every byte string is lowercase hex; tech_id and tech_user are UTF-8 strings. All integers on the wire are big-endian.",
	"inputs holds all randomness: initiator_mlkem_seed is the 64-byte ML-KEM-768 seed d||z (FIPS 203 ML-KEM.KeyGen_internal); responder_mlkem_encaps_random is the 32-byte message m of ML-KEM.Encaps_internal; X25519 private keys are the 32 raw scalar bytes (RFC 7748, clamped when used); device_ed25519_seed is the RFC 8032 private key seed.",
	"th1_params_encoding is the first part of the TH1 input: each of the label 'tether-e2e-v1 transcript', session_id, tech_id, tech_user and the device public key preceded by its length as 4 bytes; TH1 = SHA-256(th1_params_encoding || client_hello || server_hello without its last 64 bytes).",
	"secret = mlkem_shared_secret || x25519_shared_secret; prk = HKDF-Extract(SHA-256, salt = th2, IKM = secret); k_i2r, k_r2i, security_code_bytes and exporter are HKDF-Expand(prk, label, length) with the labels of PROTOCOL.md section 5.",
	"frames: aad is the caller's associated data (the frame type 0x20 the transport binds); associated_data = seq (8) || session_id (16) || aad; nonce = 00000000 || seq; payload = seq || AES-256-GCM ciphertext || tag; websocket_message = 0x20 || payload.",
	"Regenerate: go test ./internal/e2e/ -run TestKnownAnswer -update",
}

// katSeedInputs derives the inputs of a vector from a seed, so -update is
// reproducible.
func katSeedInputs(seed uint64, sessionID [16]byte, techID, techUser string) katInputs {
	r := detReader(seed)
	read := func(n int) hexBytes {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			panic(err)
		}
		return b
	}
	return katInputs{
		SessionID: sessionID[:], TechID: techID, TechUser: techUser,
		DeviceSeed: read(ed25519.SeedSize), IX25519: read(x25519Size), IMLKEMSeed: read(mlkem.SeedSize),
		Nt: read(ntSize), RX25519: read(x25519Size), RMLKEMRand: read(32),
		// A session opens each direction with its feature list (InFeatures,
		// PROTOCOL.md section 5.5), then carries on as usual.
		FramesI2R: []hexBytes{
			append([]byte{0x18}, `{"features":["path-switch"]}`...),
			append([]byte{0x02}, `{"pty":true}`...),
			append([]byte{0x03}, "ls -l\n"...),
		},
		FramesR2I: []hexBytes{
			append([]byte{0x18}, `{"features":["path-switch"]}`...),
			append([]byte{0x01}, `{"granted":true,"caps":["shell"]}`...),
			append([]byte{0x04}, "total 0\r\n"...),
		},
	}
}

// katDefinitions are the positive vectors: a plain one and one with an
// empty technician ID and a non-ASCII username, to pin the length prefixes.
func katDefinitions() []struct {
	name string
	in   katInputs
} {
	return []struct {
		name string
		in   katInputs
	}{
		{"basic", katSeedInputs(0x6b61742d31, [16]byte{0x5e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0x55}, "u_7k3xq2m9b4c5d6e7f8g9h0j1k2", "alice")},
		{"utf8-username-empty-tech-id", katSeedInputs(0x6b61742d32, [16]byte{15: 1}, "", "zoë.müller")},
	}
}

// refParamsEncoding is the length-prefixed fields that start TH1's input.
func refParamsEncoding(sessionID []byte, techID, techUser string, devicePub []byte) []byte {
	var b []byte
	for _, f := range [][]byte{[]byte("tether-e2e-v1 transcript"), sessionID, []byte(techID), []byte(techUser), devicePub} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

func sha(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// refClientHello builds the ClientHello from the inputs.
func refClientHello(in *katInputs, iv *katIntermediates) []byte {
	xk := must(ecdh.X25519().NewPrivateKey(in.IX25519))
	dk := must(mlkem.NewDecapsulationKey768(in.IMLKEMSeed))
	iv.IX25519Public = xk.PublicKey().Bytes()
	iv.IMLKEMEK = dk.EncapsulationKey().Bytes()
	iv.Commit = sha([]byte("tether-e2e-v1 commit"), in.Nt)
	msg := binary.BigEndian.AppendUint16(nil, 1)
	msg = append(msg, iv.IX25519Public...)
	msg = append(msg, iv.IMLKEMEK...)
	return append(msg, iv.Commit...)
}

// refServerHello builds the responder's answer to clientHello under the
// given session facts, signing with deviceKey, and records what it computed.
func refServerHello(in *katInputs, sessionID []byte, deviceKey ed25519.PrivateKey, clientHello []byte, iv *katIntermediates) []byte {
	ek := must(mlkem.NewEncapsulationKey768(clientHello[2+32 : 2+32+mlkem.EncapsulationKeySize768]))
	rk := must(ecdh.X25519().NewPrivateKey(in.RX25519))
	peer := must(ecdh.X25519().NewPublicKey(clientHello[2 : 2+32]))
	iv.RX25519Public = rk.PublicKey().Bytes()
	iv.X25519Shared = must(rk.ECDH(peer))
	shared, ct, err := mlkemtest.Encapsulate768(ek, in.RMLKEMRand)
	if err != nil {
		panic(err)
	}
	iv.MLKEMShared, iv.MLKEMCT = shared, ct
	iv.Secret = append(append([]byte(nil), shared...), iv.X25519Shared...)
	body := binary.BigEndian.AppendUint16(nil, 1)
	body = append(body, iv.RX25519Public...)
	body = append(body, ct...)
	pub := deviceKey.Public().(ed25519.PublicKey)
	iv.DevicePublic = hexBytes(pub)
	iv.TH1Prefix = refParamsEncoding(sessionID, in.TechID, in.TechUser, pub)
	iv.TH1 = sha(iv.TH1Prefix, clientHello, body)
	iv.SignedMessage = append([]byte("tether-e2e-v1 server signature"), iv.TH1...)
	iv.Signature = ed25519.Sign(deviceKey, iv.SignedMessage)
	return append(body, iv.Signature...)
}

func refExpand(prk []byte, label string, n int) []byte {
	return must(hkdf.Expand(sha256.New, prk, label, n))
}

// refCode formats 8 code bytes as "dddd-dddd".
func refCode(b []byte) string {
	v := binary.BigEndian.Uint64(b) % 100000000
	return fmt.Sprintf("%04d-%04d", v/10000, v%10000)
}

// refSeal seals one frame with AES-256-GCM as the specification says.
func refSeal(key, sessionID []byte, dir string, seq uint64, aad, plaintext []byte) katFrame {
	aead := must(cipher.NewGCM(must(aes.NewCipher(key))))
	nonce := binary.BigEndian.AppendUint64(make([]byte, 4), seq)
	ad := binary.BigEndian.AppendUint64(nil, seq)
	ad = append(append(ad, sessionID...), aad...)
	payload := binary.BigEndian.AppendUint64(nil, seq)
	payload = aead.Seal(payload, nonce, plaintext, ad)
	return katFrame{Direction: dir, Seq: seq, AAD: aad, Plaintext: plaintext, Nonce: nonce,
		AssociatedData: ad, Payload: payload, Message: append([]byte{0x20}, payload...)}
}

// refVector computes a whole vector from its inputs with the standard
// primitives only.
func refVector(name string, in katInputs) katVector {
	v := katVector{Name: name, Inputs: in}
	iv := &v.Intermediates
	key := ed25519.NewKeyFromSeed(in.DeviceSeed)
	ch := refClientHello(&in, iv)
	sh := refServerHello(&in, in.SessionID, key, ch, iv)
	cf := append(binary.BigEndian.AppendUint16(nil, 1), in.Nt...)
	iv.TH2 = sha(iv.TH1, iv.Signature, cf)
	iv.PRK = must(hkdf.Extract(sha256.New, iv.Secret, iv.TH2))
	iv.CodeBytes = refExpand(iv.PRK, "tether-e2e-v1 security code", 8)
	v.Messages = katMessages{ClientHello: ch, ServerHello: sh, ClientFinish: cf,
		ClientHelloFrame: append([]byte{0x10}, ch...), ServerHelloFrame: append([]byte{0x11}, sh...),
		ClientFinishFrame: append([]byte{0x12}, cf...)}
	v.Outputs = katOutputs{
		KeyI2R:       refExpand(iv.PRK, "tether-e2e-v1 initiator->responder", 32),
		KeyR2I:       refExpand(iv.PRK, "tether-e2e-v1 responder->initiator", 32),
		SecurityCode: refCode(iv.CodeBytes),
		Exporter:     refExpand(iv.PRK, "tether-e2e-v1 exporter", 32),
	}
	for seq, pt := range in.FramesI2R {
		v.Frames = append(v.Frames, refSeal(v.Outputs.KeyI2R, in.SessionID, dirI2R, uint64(seq), []byte{0x20}, pt))
	}
	for seq, pt := range in.FramesR2I {
		v.Frames = append(v.Frames, refSeal(v.Outputs.KeyR2I, in.SessionID, dirR2I, uint64(seq), []byte{0x20}, pt))
	}
	return v
}

// katParams are the Params of a vector.
func katParams(in *katInputs) Params {
	p := Params{TechID: ids.UserID(in.TechID), TechUser: in.TechUser,
		DeviceKey: ed25519.NewKeyFromSeed(in.DeviceSeed).Public().(ed25519.PublicKey)}
	copy(p.SessionID[:], in.SessionID)
	return p
}

// katInitiator is this package's Initiator fed the vector's randomness.
func katInitiator(in *katInputs) (*Initiator, []byte, error) {
	random := bytes.NewReader(bytes.Join([][]byte{in.IX25519, in.IMLKEMSeed, in.Nt}, nil))
	return newInitiator(katParams(in), random)
}

// katResponder is this package's Responder fed the vector's randomness,
// answering as the holder of deviceSeed under sessionID.
func katResponder(in *katInputs, sessionID []byte, deviceSeed []byte) *Responder {
	p := katParams(in)
	copy(p.SessionID[:], sessionID)
	key := ed25519.NewKeyFromSeed(deviceSeed)
	p.DeviceKey = nil
	encaps := func(ek *mlkem.EncapsulationKey768) ([]byte, []byte, error) {
		return mlkemtest.Encapsulate768(ek, in.RMLKEMRand)
	}
	return newResponder(p, key, bytes.NewReader(in.RX25519), encaps)
}

// katSessions runs this package's handshake on the vector's randomness.
func katSessions(t *testing.T, v *katVector) (is, rs *Session) {
	t.Helper()
	i, ch, err := katInitiator(&v.Inputs)
	if err != nil {
		t.Fatalf("%s: newInitiator: %v", v.Name, err)
	}
	r := katResponder(&v.Inputs, v.Inputs.SessionID, v.Inputs.DeviceSeed)
	is, rs, tr, err := runHandshake(i, ch, r, tamper{})
	if err != nil {
		t.Fatalf("%s: handshake: %v", v.Name, err)
	}
	for _, m := range []struct {
		name      string
		got, want []byte
	}{
		{"client_hello", tr.clientHello, v.Messages.ClientHello},
		{"server_hello", tr.serverHello, v.Messages.ServerHello},
		{"client_finish", tr.clientFinish, v.Messages.ClientFinish},
	} {
		if !bytes.Equal(m.got, m.want) {
			t.Errorf("%s: implementation's %s differs from the vector:\n got %x\nwant %x", v.Name, m.name, m.got, m.want)
		}
	}
	return is, rs
}

// checkImplementation runs this package on the vector's inputs and checks
// every output it exposes against the vector.
func checkImplementation(t *testing.T, v *katVector) {
	t.Helper()
	is, rs := katSessions(t, v)
	for _, s := range []struct {
		side string
		s    *Session
	}{{"initiator", is}, {"responder", rs}} {
		if s.s.SecurityCode != v.Outputs.SecurityCode {
			t.Errorf("%s: %s security code %q, vector %q", v.Name, s.side, s.s.SecurityCode, v.Outputs.SecurityCode)
		}
		if !bytes.Equal(s.s.Exporter, v.Outputs.Exporter) {
			t.Errorf("%s: %s exporter %x, vector %x", v.Name, s.side, s.s.Exporter, v.Outputs.Exporter)
		}
	}
	for _, f := range v.Frames {
		send, recv := is.Send, rs.Recv
		if f.Direction == dirR2I {
			send, recv = rs.Send, is.Recv
		}
		got, err := send.Seal(nil, f.AAD, f.Plaintext)
		if err != nil || !bytes.Equal(got, f.Payload) {
			t.Errorf("%s: %s seq %d: Seal gave %x, %v; vector %x", v.Name, f.Direction, f.Seq, got, err, f.Payload)
		}
		pt, err := recv.Open(nil, f.AAD, f.Payload)
		if err != nil || !bytes.Equal(pt, f.Plaintext) {
			t.Errorf("%s: %s seq %d: Open gave %x, %v; vector %x", v.Name, f.Direction, f.Seq, pt, err, f.Plaintext)
		}
	}
}

// diffJSON reports every path where got and want differ once encoded.
func diffJSON(t *testing.T, prefix string, got, want any) {
	t.Helper()
	var g, w any
	for _, x := range []struct {
		v   any
		out *any
	}{{got, &g}, {want, &w}} {
		b, err := json.Marshal(x.v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, x.out); err != nil {
			t.Fatal(err)
		}
	}
	diffValue(t, prefix, g, w)
}

func diffValue(t *testing.T, path string, g, w any) {
	t.Helper()
	gm, gok := g.(map[string]any)
	wm, wok := w.(map[string]any)
	if gok && wok {
		keys := map[string]bool{}
		for k := range gm {
			keys[k] = true
		}
		for k := range wm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			diffValue(t, path+"."+k, gm[k], wm[k])
		}
		return
	}
	ga, gok := g.([]any)
	wa, wok := w.([]any)
	if gok && wok && len(ga) == len(wa) {
		for i := range ga {
			diffValue(t, fmt.Sprintf("%s[%d]", path, i), ga[i], wa[i])
		}
		return
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: recomputed %v, file has %v", path, g, w)
	}
}

// readKAT decodes one file of testdata/kat.
func readKAT(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(katDir, name))
	if err != nil {
		t.Fatalf("read vectors (regenerate with -update): %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

// writeKAT writes one file of testdata/kat.
func writeKAT(t *testing.T, name string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(katDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(katDir, name), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestKnownAnswerHandshake checks testdata/kat/handshake.json: the
// reference recomputes every field from the file's inputs, and this
// package, fed the same randomness, produces the same messages, code,
// exporter and frames and opens the frames.
func TestKnownAnswerHandshake(t *testing.T) {
	if *updateKAT {
		var f katFile
		f.Comment = katComment
		for _, d := range katDefinitions() {
			v := refVector(d.name, d.in)
			checkImplementation(t, &v)
			f.Vectors = append(f.Vectors, v)
		}
		if t.Failed() {
			t.Fatal("the implementation disagrees with the reference; vectors not written")
		}
		writeKAT(t, katHandshakeFile, &f)
	}
	var f katFile
	readKAT(t, katHandshakeFile, &f)
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors in the file")
	}
	if !reflect.DeepEqual(f.Comment, katComment) {
		t.Error("the file's comment is out of date (regenerate with -update)")
	}
	for i := range f.Vectors {
		v := &f.Vectors[i]
		t.Run(v.Name, func(t *testing.T) {
			diffJSON(t, v.Name, refVector(v.Name, v.Inputs), v)
			checkImplementation(t, v)
			checkSizes(t, v)
		})
	}
}

// checkSizes pins the fixed sizes of the vector's fields.
func checkSizes(t *testing.T, v *katVector) {
	for _, c := range []struct {
		name string
		got  []byte
		want int
	}{
		{"client_hello", v.Messages.ClientHello, ClientHelloSize},
		{"server_hello", v.Messages.ServerHello, ServerHelloSize},
		{"client_finish", v.Messages.ClientFinish, ClientFinishSize},
		{"k_i2r", v.Outputs.KeyI2R, 32},
		{"k_r2i", v.Outputs.KeyR2I, 32},
		{"exporter", v.Outputs.Exporter, 32},
		{"session_id", v.Inputs.SessionID, 16},
	} {
		if len(c.got) != c.want {
			t.Errorf("%s: %s is %d bytes, want %d", v.Name, c.name, len(c.got), c.want)
		}
	}
	if len(v.Inputs.FramesI2R) < 3 || len(v.Inputs.FramesR2I) < 3 {
		t.Errorf("%s: want at least seq 0, 1, 2 in each direction", v.Name)
	}
}
