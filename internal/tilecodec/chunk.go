package tilecodec

import "fmt"

// chunkBuilder collects tile records into chunks of at most MaxChunk bytes,
// budgeting the zstd data of a chunk at its uncompressed size (zstd never
// grows data by more than zstdReserve per chunk), so a chunk always fits.
type chunkBuilder struct {
	hdr    header
	cur    []byte // header ‖ records
	zin    int    // zstd input bytes of the current chunk
	chunks [][]byte
}

func (b *chunkBuilder) start(h header) {
	b.hdr, b.chunks = h, nil
	b.next()
}

// next starts the following chunk of the same update.
func (b *chunkBuilder) next() {
	if len(b.chunks) > 0 {
		b.hdr.index = uint16(len(b.chunks))
		b.hdr.flags &^= FlagFull | FlagZstdReset
	}
	b.hdr.tiles = 0
	b.cur = make([]byte, HeaderSize, 4096)
	b.zin = 0
}

func (b *chunkBuilder) empty() bool { return len(b.chunks) == 0 && b.hdr.tiles == 0 }

func (b *chunkBuilder) fits(rec, zin int) bool {
	return b.hdr.tiles == 0 || len(b.cur)+rec+b.zin+zin+zstdReserve <= MaxChunk
}

func (b *chunkBuilder) add(rec []byte, zin int) {
	b.cur = append(b.cur, rec...)
	b.zin += zin
	b.hdr.tiles++
}

// finish closes the current chunk with its compressed tile data.
func (b *chunkBuilder) finish(z []byte) error {
	b.cur = append(b.cur, z...)
	if len(b.cur) > MaxChunk {
		return fmt.Errorf("tilecodec: internal error: chunk of %d bytes", len(b.cur))
	}
	b.hdr.put(b.cur)
	b.chunks = append(b.chunks, b.cur)
	return nil
}

// done marks the last chunk final and returns the chunks.
func (b *chunkBuilder) done() [][]byte {
	last := b.chunks[len(b.chunks)-1]
	last[6] |= FlagFinal
	return b.chunks
}
