// Package tilecodec turns captured screen frames into screen updates and
// back: the tile codec of the remote desktop, whose wire format is normative
// in internal/protocol/PROTOCOL.md §8.6.
//
// The screen is cut into 64×64 tiles (the right and bottom edge tiles are
// smaller). An Encoder keeps a copy of the last frame it sent and emits only
// the tiles that differ from it, each as one of five kinds: solid (one
// colour), palette (few colours, index-packed), raw (lossless BGR), JPEG, or
// copy (pixels that moved with a vertical scroll, from where they were).
// Palette and raw tiles go through one zstd stream that lives as long as the
// Encoder, so text seen in an earlier update (a scrolled line, a retyped
// word) compresses against it; the stream is flushed at the end of every
// chunk, so a Decoder can draw each chunk as it arrives. An update is split
// into chunks of at most MaxChunk bytes, one InScreenUpdate message each.
//
// The Decoder treats every chunk as hostile: lengths, counts, coordinates,
// palette indices, JPEG dimensions and the zstd window are all checked, and
// the first error is final (the Decoder refuses everything after it).
package tilecodec
