package recordings

import "errors"

// Sentinel errors returned (wrapped with more context) by this package. Use
// [errors.Is] to test for them. Cryptographic failures deliberately say little
// beyond which part of the recording failed.
var (
	// ErrWrongSession means the recording's authenticated header names
	// another session than the one asked for: a file swapped or misfiled.
	ErrWrongSession = errors.New("recordings: recording belongs to another session")

	// ErrInvalidHeader means the recording header is malformed: bad magic,
	// out-of-range counts or lengths, or a header that ends early.
	ErrInvalidHeader = errors.New("recordings: invalid header")

	// ErrUnsupportedVersion means the input is a Tether recording of a
	// format version this package does not implement.
	ErrUnsupportedVersion = errors.New("recordings: unsupported format version")

	// ErrNoIdentityMatched means none of the given identities is a
	// recipient of the recording.
	ErrNoIdentityMatched = errors.New("recordings: no identity matched any recipient")

	// ErrStanza means a recipient stanza addressed to one of the given
	// identities (its key ID matched) could not be decrypted: the stanza was
	// modified or belongs to another recording.
	ErrStanza = errors.New("recordings: recipient stanza failed to decrypt")

	// ErrHeaderMAC means the header MAC did not verify: the header was
	// modified after it was written.
	ErrHeaderMAC = errors.New("recordings: header authentication failed")

	// ErrAuthentication means a body chunk failed to authenticate: it was
	// modified, reordered, or spliced in from another recording. The error
	// message names the chunk index.
	ErrAuthentication = errors.New("recordings: chunk authentication failed")

	// ErrMalformedChunk means a body chunk authenticated but its contents
	// are not valid for the format version (an unknown encoding, or
	// compressed data that does not decode within the chunk size): the
	// recording was written by a faulty program holding its file key.
	ErrMalformedChunk = errors.New("recordings: malformed chunk contents")

	// ErrTruncated means the recording ends before its final chunk. All
	// plaintext returned before this error was authenticated; the recording
	// is incomplete (for example the agent stopped mid-session).
	ErrTruncated = errors.New("recordings: recording is truncated")

	// ErrTrailingData means bytes follow the final chunk. All plaintext
	// returned before this error was authenticated.
	ErrTrailingData = errors.New("recordings: trailing data after final chunk")

	// ErrInvalidKey means an identity or recipient string could not be
	// parsed.
	ErrInvalidKey = errors.New("recordings: invalid key")

	// ErrInsecureKeyFile means an identity file is readable or writable by
	// group or other users.
	ErrInsecureKeyFile = errors.New("recordings: identity file permissions are too open")

	// ErrClosed means a [Writer] was used after Close.
	ErrClosed = errors.New("recordings: writer is closed")

	// ErrInvalidCast means an asciicast v2 stream is malformed.
	ErrInvalidCast = errors.New("recordings: invalid asciicast")

	// ErrInvalidDesktop means the desktop stream after the switch line is
	// malformed: an unknown record kind, a payload that breaks its kind's
	// rules, a time going backwards, or a record cut short at a clean end.
	ErrInvalidDesktop = errors.New("recordings: invalid desktop stream")
)
