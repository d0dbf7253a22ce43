package tech

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/recordings"
)

// GenerateKey writes a new recording identity to path (mode 0600, never
// overwriting) and returns its public key, for AddRecipient.
func (c *Client) GenerateKey(path string) (string, error) {
	id, err := recordings.GenerateIdentity()
	if err != nil {
		return "", err
	}
	if err := recordings.WriteIdentityFile(path, id); err != nil {
		return "", err
	}
	return id.Recipient().String(), nil
}

// AddRecipient makes recordings from now on readable by key's holder and
// returns the recipient as the relay stored it.
func (c *Client) AddRecipient(ctx context.Context, key string) (api.Recipient, error) {
	var r api.Recipient
	err := c.call(ctx, http.MethodPost, protocol.PathRecipients, nil, api.RecipientRequest{Key: key}, &r)
	return r, err
}

// RemoveRecipient stops encrypting new recordings to the key with keyID.
func (c *Client) RemoveRecipient(ctx context.Context, keyID string) error {
	return c.call(ctx, http.MethodDelete, protocol.PathRecipients+"/"+url.PathEscape(keyID), nil, nil, nil)
}

// Recipients lists reviewer keys.
func (c *Client) Recipients(ctx context.Context) ([]api.Recipient, error) {
	return list[api.Recipient](ctx, c, protocol.PathRecipients, nil)
}

// Recordings lists the stored recordings.
func (c *Client) Recordings(ctx context.Context) ([]api.Recording, error) {
	return list[api.Recording](ctx, c, protocol.PathRecordings, nil)
}

// HoldRecording places a legal hold on recording id, so that retention
// keeps it, and returns it as the relay now lists it.
func (c *Client) HoldRecording(ctx context.Context, id, reason string) (api.Recording, error) {
	var r api.Recording
	err := c.call(ctx, http.MethodPost, protocol.PathRecordings+"/"+url.PathEscape(id)+"/hold", nil, api.HoldRequest{Reason: reason}, &r)
	return r, err
}

// ReleaseRecording lifts the legal hold on recording id.
func (c *Client) ReleaseRecording(ctx context.Context, id string) (api.Recording, error) {
	var r api.Recording
	err := c.call(ctx, http.MethodPost, protocol.PathRecordings+"/"+url.PathEscape(id)+"/release", nil, nil, &r)
	return r, err
}

// openRecording downloads recording id and opens it with the identity in
// identityFile; it returns the plaintext reader and the relay's state.
func (c *Client) openRecording(ctx context.Context, id, identityFile string) (*recordings.Reader, string, io.Closer, error) {
	ident, err := recordings.ReadIdentityFile(identityFile)
	if err != nil {
		return nil, "", nil, err
	}
	ep, err := c.endpoint()
	if err != nil {
		return nil, "", nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+protocol.PathRecordings+"/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, "", nil, err
	}
	req.Header.Set("Authorization", "Bearer "+ep.Token)
	resp, err := ep.HTTPClient().Do(req)
	if err != nil {
		return nil, "", nil, transport.DialError(ep.URL, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", nil, transport.ResponseError(resp)
	}
	r, err := recordings.NewReader(resp.Body, ident)
	if err != nil {
		resp.Body.Close()
		return nil, "", nil, fmt.Errorf("open recording %s: %w", id, err)
	}
	if err := r.Header().CheckSession(id); err != nil {
		resp.Body.Close()
		return nil, "", nil, fmt.Errorf("recording %s refused: the file is not this session's recording (swapped or misfiled on the relay): %w", id, err)
	}
	return r, resp.Header.Get("X-Tether-Recording-State"), resp.Body, nil
}

// RecordingCheck is what VerifyRecording found in a sound recording.
type RecordingCheck struct {
	// Bytes and Events count the decrypted stream: its asciicast events
	// and, in a desktop recording, its records.
	Bytes  int64
	Events int
	// Desktop is set for a desktop recording (recordings/FORMAT.md §6.1).
	Desktop bool
	// State is the relay's state of the recording, as the relay sent it.
	State string
}

// VerifyRecording decrypts a recording locally and checks every chunk and
// that the plaintext is a well-formed asciicast v2 stream or desktop
// stream.
func (c *Client) VerifyRecording(ctx context.Context, id, identityFile string) (RecordingCheck, error) {
	r, state, body, err := c.openRecording(ctx, id, identityFile)
	if err != nil {
		return RecordingCheck{}, err
	}
	defer body.Close()
	pr, pw := io.Pipe()
	type parsed struct {
		events  int
		desktop bool
		err     error
	}
	done := make(chan parsed, 1)
	go func() {
		n := 0
		count := func() { n++ }
		_, desktop, err := recordings.ReadStream(pr, recordings.StreamVisitor{
			Cast:   func(recordings.CastEvent) error { count(); return nil },
			Record: func(recordings.Record) error { count(); return nil },
		})
		io.Copy(io.Discard, pr)
		done <- parsed{n, desktop, err}
	}()
	n, cerr := io.Copy(pw, r)
	pw.Close()
	p := <-done
	if errors.Is(cerr, recordings.ErrTruncated) {
		return RecordingCheck{}, fmt.Errorf("recording %s is incomplete: %d bytes decrypt and authenticate, then it ends early (%v)", id, n, cerr)
	}
	if cerr != nil {
		return RecordingCheck{}, fmt.Errorf("recording %s failed verification: %w", id, cerr)
	}
	if p.err != nil {
		return RecordingCheck{}, fmt.Errorf("recording %s decrypts but its content is malformed: %w", id, p.err)
	}
	return RecordingCheck{Bytes: n, Events: p.events, Desktop: p.desktop, State: state}, nil
}

// Exported is what ExportRecording or ExportFrame wrote.
type Exported struct {
	// Bytes of asciicast v2 (or PNG) written.
	Bytes int64
	// Incomplete: the recording was cut short; Bytes are those before the
	// cut (its last whole chunk).
	Incomplete bool
	// At, Width and Height describe the frame ExportFrame wrote.
	At            time.Duration
	Width, Height int
}

// ExportRecording decrypts a recording locally into out (mode 0600). A
// recording cut short is exported up to its last whole chunk and reported.
func (c *Client) ExportRecording(ctx context.Context, id, identityFile, format, out string) (Exported, error) {
	if format != "" && format != "asciicast" {
		return Exported{}, fmt.Errorf("unknown --format %q (asciicast and png are supported)", format)
	}
	r, _, body, err := c.openRecording(ctx, id, identityFile)
	if err != nil {
		return Exported{}, err
	}
	defer body.Close()
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Exported{}, fmt.Errorf("export: %w", err)
	}
	n, cerr := io.Copy(f, &desktopGuard{r: r})
	if err := f.Close(); err != nil {
		return Exported{}, err
	}
	if errors.Is(cerr, errDesktopRecording) {
		os.Remove(out)
		return Exported{}, fmt.Errorf("recording %s is a desktop recording: export a frame with --format png [--at DURATION], or play it", id)
	}
	if errors.Is(cerr, recordings.ErrTruncated) {
		return Exported{Bytes: n, Incomplete: true}, nil
	}
	if cerr != nil {
		os.Remove(out)
		return Exported{}, fmt.Errorf("recording %s failed verification; nothing exported: %w", id, cerr)
	}
	return Exported{Bytes: n}, nil
}

// maxGap caps idle pauses during playback.
const maxGap = 2 * time.Second

// PlayRecording replays a recording's output into out with its original
// timing (divided by speed), idle gaps capped. The output is the recorded
// device's, raw: a terminal needs it through a sanitize.TermFilter, as a
// live session's. incomplete reports a recording that ends early.
func (c *Client) PlayRecording(ctx context.Context, id, identityFile string, speed float64, out io.Writer) (incomplete bool, err error) {
	if speed <= 0 {
		return false, errors.New("--speed must be positive")
	}
	r, _, body, err := c.openRecording(ctx, id, identityFile)
	if err != nil {
		return false, err
	}
	defer body.Close()
	p := castPlayer{speed: speed, out: out}
	_, err = recordings.ReadCastEvents(&desktopGuard{r: r}, func(e recordings.CastEvent) error {
		return p.play(ctx, e)
	})
	if errors.Is(err, recordings.ErrTruncated) {
		return true, nil
	}
	if errors.Is(err, errDesktopRecording) {
		return false, fmt.Errorf("recording %s is a desktop recording: it plays in the browser page (tech recordings play without --raw)", id)
	}
	return false, err
}

// PlayCast replays asciicast events' output into out like PlayRecording.
func PlayCast(ctx context.Context, evs []recordings.CastEvent, speed float64, out io.Writer) error {
	if speed <= 0 {
		return errors.New("--speed must be positive")
	}
	p := castPlayer{speed: speed, out: out}
	for _, e := range evs {
		if err := p.play(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// castPlayer writes asciicast output events to out at their pace (divided
// by speed, each gap at most maxGap).
type castPlayer struct {
	speed float64
	out   io.Writer
	last  float64 // the previous event's time
}

// play waits out the gap before e, then writes e's output.
func (p *castPlayer) play(ctx context.Context, e recordings.CastEvent) error {
	gap := time.Duration((e.Time - p.last) / p.speed * float64(time.Second))
	p.last = e.Time
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(min(gap, maxGap)):
	}
	if e.Type == "o" {
		io.WriteString(p.out, e.Data)
	}
	return nil
}

// AuditExport writes the audit log to w in format (jsonl or csv), every
// character that could act on a terminal or a spreadsheet escaped again:
// the relay is not trusted to have done it. A JSONL export is checked as
// it is copied: unverified is why it does not verify (it is written all
// the same), else nil and its signed head is remembered.
func (c *Client) AuditExport(ctx context.Context, w io.Writer, format, since string) (unverified, err error) {
	ep, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	q := url.Values{"format": {format}}
	if since != "" {
		q.Set("since", since)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+protocol.PathAuditExport+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+ep.Token)
	resp, err := ep.HTTPClient().Do(req)
	if err != nil {
		return nil, transport.DialError(ep.URL, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, transport.ResponseError(resp)
	}
	defer resp.Body.Close()
	if format == "csv" {
		return nil, copyCSV(w, resp.Body)
	}
	return c.copyAuditJSONL(w, resp.Body)
}

// maxAuditLine bounds one line of an audit export from the relay.
const maxAuditLine = 4 << 20

// copyJSONL copies a JSONL audit export, escaping (again: the relay is not
// trusted to have done it) every character that could act on a terminal.
func copyJSONL(w io.Writer, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			if _, werr := w.Write(sanitize.EscapeJSON(line)); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
	}
}

// readLine reads one line with its newline, at most maxAuditLine bytes.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, err := br.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > maxAuditLine {
			return nil, fmt.Errorf("the relay sent a line over %d bytes", maxAuditLine)
		}
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

// copyCSV copies a CSV audit export with every cell made inert again by
// sanitize.CSVCell (escape sequences shown, formulas quoted).
func copyCSV(w io.Writer, r io.Reader) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cw := csv.NewWriter(w)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("audit export: the relay sent malformed CSV: %w", err)
		}
		for i, cell := range rec {
			rec[i] = sanitize.CSVCell(cell)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
