// Package recordings encrypts and decrypts Tether session recordings.
//
// A recording is made on the agent, streamed to the relay while the session
// runs and stored there as ciphertext that only the organisation's reviewers
// can open. The relay can read the cleartext header (session ID, creation
// time and the key IDs of the reviewers) with [ReadHeader], but never the body.
//
// The format is specified in FORMAT.md next to this file. In short: a random
// 32-byte file key is wrapped for every reviewer [Recipient] with HPKE
// (MLKEM768-X25519, HKDF-SHA256, AES-256-GCM); the header is authenticated by
// an HMAC keyed from the file key; the body is split into chunks of at most
// [ChunkSize] bytes, each sealed with AES-256-GCM under a key derived from the
// file key, with a counter nonce and a last-chunk flag, so truncation,
// reordering, splicing and trailing data are all detected. Since format
// version 2 each chunk is compressed (Snappy block format) when that makes
// it smaller; recordings of both versions can be read.
//
// [NewWriter] produces a recording and [NewReader] opens one. A recording cut
// short (for example because the agent crashed) remains readable up to its
// last whole chunk: the [Reader] returns every authenticated byte and then
// [ErrTruncated].
//
// The plaintext of a Tether recording is an asciicast v2 stream; the
// encryption layer treats it as opaque bytes. [CastWriter], [ParseCast] and
// [ReadCastEvents] are small helpers to produce, validate and play it back.
// A session that shows the end user's screen switches its stream, with
// [CastWriter.Desktop], to a desktop stream of binary records (screen
// update chunks, keyframes, cursor, input, markers, terminal events);
// [ReadStream] reads either content type.
package recordings
