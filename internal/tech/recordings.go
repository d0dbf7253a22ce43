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

	"tether/internal/api"
	"tether/internal/ids"
	"tether/internal/protocol"
	"tether/internal/sanitize"
	"tether/internal/transport"
	"tether/recordings"
)

// GenerateKey writes a new recording identity to path (mode 0600, never
// overwriting) and prints its public key on stdout.
func (c *Client) GenerateKey(path string) error {
	id, err := recordings.GenerateIdentity()
	if err != nil {
		return err
	}
	if err := recordings.WriteIdentityFile(path, id); err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, id.Recipient().String())
	fmt.Fprintf(c.Stderr, "Wrote the private identity to %s (mode 0600): keep it offline and safe.\nNext: tech recordings recipients add <the public key above>\n", path)
	return nil
}

// AddRecipient makes recordings from now on readable by key's holder.
func (c *Client) AddRecipient(ctx context.Context, key string) error {
	var r api.Recipient
	if err := c.call(ctx, http.MethodPost, protocol.PathRecipients, nil, api.RecipientRequest{Key: key}, &r); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Recordings from now on are encrypted to key %s as well.\n", sanitize.Display(r.KeyID, 64))
	return nil
}

// RemoveRecipient stops encrypting new recordings to the key with keyID.
func (c *Client) RemoveRecipient(ctx context.Context, keyID string) error {
	if err := c.call(ctx, http.MethodDelete, protocol.PathRecipients+"/"+url.PathEscape(keyID), nil, nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Removed recipient %s (existing recordings stay readable by it).\n", keyID)
	return nil
}

// Recipients lists reviewer keys.
func (c *Client) Recipients(ctx context.Context, asJSON bool) error {
	return printList(ctx, c, protocol.PathRecipients, nil, asJSON, "KEY ID\tADDED\tPUBLIC KEY", func(r api.Recipient) string {
		return fmt.Sprintf("%s\t%s\t%s", r.KeyID, r.AddedAt.Local().Format(time.DateTime), r.Key)
	})
}

// recordingRow is one element of `tech recordings list --json`, the shape
// docs/cli.md documents (the relay's api.Recording carries more).
type recordingRow struct {
	ID         ids.SessionID `json:"id"`
	TechUser   string        `json:"tech_user"`
	DeviceName string        `json:"device_name"`
	State      string        `json:"state"`
	Size       int64         `json:"size"`
	SHA256     string        `json:"sha256"`
	KeyIDs     []string      `json:"key_ids"`
	CreatedAt  time.Time     `json:"created_at"`
	FinishedAt time.Time     `json:"finished_at,omitzero"`
}

// newRecordingRow is r as `tech recordings list --json` prints it.
func newRecordingRow(r api.Recording) recordingRow {
	return recordingRow{ID: r.ID, TechUser: r.TechUser, DeviceName: r.DeviceName, State: r.State, Size: r.Size,
		SHA256: r.SHA256, KeyIDs: r.KeyIDs, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt}
}

// Recordings lists the stored recordings.
func (c *Client) Recordings(ctx context.Context, asJSON bool) error {
	return printRows(ctx, c, protocol.PathRecordings, nil, asJSON, "ID\tTECHNICIAN\tDEVICE\tSTATE\tSIZE\tSTARTED", func(r api.Recording) string {
		return fmt.Sprintf("%s\t%s\t%s\t%s\t%d\t%s", r.ID, sanitize.Display(r.TechUser, 40), sanitize.Display(r.DeviceName, 40),
			r.State, r.Size, r.CreatedAt.Local().Format(time.DateTime))
	}, newRecordingRow)
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

// VerifyRecording decrypts a recording locally and checks every chunk and
// that the plaintext is a well-formed asciicast v2 stream.
func (c *Client) VerifyRecording(ctx context.Context, id, identityFile string) error {
	r, state, body, err := c.openRecording(ctx, id, identityFile)
	if err != nil {
		return err
	}
	defer body.Close()
	pr, pw := io.Pipe()
	type parsed struct {
		events int
		err    error
	}
	done := make(chan parsed, 1)
	go func() {
		_, n, err := recordings.ParseCast(pr)
		io.Copy(io.Discard, pr)
		done <- parsed{n, err}
	}()
	n, cerr := io.Copy(pw, r)
	pw.Close()
	p := <-done
	if errors.Is(cerr, recordings.ErrTruncated) {
		return fmt.Errorf("recording %s is incomplete: %d bytes decrypt and authenticate, then it ends early (%v)", id, n, cerr)
	}
	if cerr != nil {
		return fmt.Errorf("recording %s failed verification: %w", id, cerr)
	}
	if p.err != nil {
		return fmt.Errorf("recording %s decrypts but is not valid asciicast: %w", id, p.err)
	}
	fmt.Fprintf(c.Stdout, "recording %s verified: %d bytes, %d events, %s\n", id, n, p.events, sanitize.Display(state, 32))
	return nil
}

// ExportRecording decrypts a recording locally into out (mode 0600). A
// recording cut short is exported up to its last whole chunk and reported.
func (c *Client) ExportRecording(ctx context.Context, id, identityFile, format, out string) error {
	if format != "" && format != "asciicast" {
		return fmt.Errorf("unknown --format %q (asciicast is supported)", format)
	}
	r, _, body, err := c.openRecording(ctx, id, identityFile)
	if err != nil {
		return err
	}
	defer body.Close()
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	n, cerr := io.Copy(f, r)
	if err := f.Close(); err != nil {
		return err
	}
	if errors.Is(cerr, recordings.ErrTruncated) {
		fmt.Fprintf(c.Stderr, "tech: warning: recording %s is incomplete; exported the %d bytes before the cut\n", id, n)
		return nil
	}
	if cerr != nil {
		os.Remove(out)
		return fmt.Errorf("recording %s failed verification; nothing exported: %w", id, cerr)
	}
	fmt.Fprintf(c.Stderr, "Exported %d bytes of asciicast v2 to %s.\n", n, out)
	return nil
}

// maxGap caps idle pauses during playback.
const maxGap = 2 * time.Second

// PlayRecording replays a recording's output in this terminal with its
// original timing (divided by speed), idle gaps capped. The output goes
// through a sanitize.TermFilter, as a live session's does, unless raw.
func (c *Client) PlayRecording(ctx context.Context, id, identityFile string, speed float64, raw bool) error {
	if speed <= 0 {
		return errors.New("--speed must be positive")
	}
	r, _, body, err := c.openRecording(ctx, id, identityFile)
	if err != nil {
		return err
	}
	defer body.Close()
	out := c.Stdout
	if !raw {
		out = sanitize.NewTermFilter(c.Stdout)
	}
	last := 0.0
	_, err = recordings.ReadCastEvents(r, func(e recordings.CastEvent) error {
		gap := time.Duration((e.Time - last) / speed * float64(time.Second))
		last = e.Time
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(gap, maxGap)):
		}
		if e.Type == "o" {
			io.WriteString(out, e.Data)
		}
		return nil
	})
	if errors.Is(err, recordings.ErrTruncated) {
		fmt.Fprintf(c.Stderr, "\ntech: warning: the recording ends early (incomplete)\n")
		return nil
	}
	return err
}

// AuditExport writes the audit log to stdout.
func (c *Client) AuditExport(ctx context.Context, format, since string) error {
	ep, err := c.endpoint()
	if err != nil {
		return err
	}
	q := url.Values{"format": {format}}
	if since != "" {
		q.Set("since", since)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+protocol.PathAuditExport+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+ep.Token)
	resp, err := ep.HTTPClient().Do(req)
	if err != nil {
		return transport.DialError(ep.URL, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		return transport.ResponseError(resp)
	}
	defer resp.Body.Close()
	if format == "csv" {
		return copyCSV(c.Stdout, resp.Body)
	}
	return c.copyAuditJSONL(resp.Body)
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
