package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// decoders holds a file's ZSTD decoder, made on first use: most files compress few fields.
type decoders struct {
	zstd *zstd.Decoder
}

// decompress returns a DATA payload compressed with the object flag c, refusing to make more
// than the field limit.
func (f *File) decompress(c byte, payload []byte) ([]byte, error) {
	max := f.limits.MaxFieldBytes
	var out []byte
	var err error
	switch c {
	case objCompressedXZ:
		out, err = unxz(payload, max)
	case objCompressedLZ4:
		out, err = unlz4(payload, max)
	case objCompressedZSTD:
		out, err = f.unzstd(payload, max)
	default:
		return nil, f.corrupt("compression flags %#x name more than one codec", c)
	}
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("journal: %s: %w: the field limit is %d bytes", f.Path, err, max)
	}
	if err != nil {
		return nil, f.corrupt("%v", err)
	}
	return out, nil
}

var errTooLarge = errors.New("decompressed field over the limit")

// unxz reads an XZ stream (systemd writes one with no integrity check, dictionary 1 MiB).
func unxz(src []byte, maxOut int64) ([]byte, error) {
	// The decoder allocates the dictionary the stream declares, up to 4 GiB: refuse one larger
	// than the output may be (or systemd's 1 MiB) before it does.
	dict, err := xzDictSize(src)
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	if limit := uint64(max(maxOut, 1<<20)); dict > limit {
		return nil, fmt.Errorf("xz: a %d-byte dictionary: %w", dict, errTooLarge)
	}
	r, err := xz.ReaderConfig{SingleStream: true}.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxOut+1))
	if err != nil {
		return nil, fmt.Errorf("xz: %w", err)
	}
	if int64(len(out)) > maxOut {
		return nil, fmt.Errorf("xz: %w", errTooLarge)
	}
	return out, nil
}

// unlz4 reads systemd's LZ4 framing: the decompressed size as a little-endian 64-bit integer,
// then one LZ4 block.
func unlz4(src []byte, max int64) ([]byte, error) {
	if len(src) < 8 {
		return nil, fmt.Errorf("lz4: %d bytes, less than the 8-byte size prefix", len(src))
	}
	size := binary.LittleEndian.Uint64(src)
	if size > uint64(max) {
		return nil, fmt.Errorf("lz4: %d bytes: %w", size, errTooLarge)
	}
	out := make([]byte, size)
	n, err := lz4.UncompressBlock(src[8:], out)
	if err != nil {
		return nil, fmt.Errorf("lz4: %w", err)
	}
	if uint64(n) != size {
		return nil, fmt.Errorf("lz4: %d bytes decompressed, the prefix says %d", n, size)
	}
	return out, nil
}

// unzstd reads one ZSTD frame.
func (f *File) unzstd(src []byte, max int64) ([]byte, error) {
	if f.dec.zstd == nil {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(uint64(max)))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		f.dec.zstd = d
	}
	out, err := f.dec.zstd.DecodeAll(src, nil)
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) || err == nil && int64(len(out)) > max {
		return nil, fmt.Errorf("zstd: %w", errTooLarge)
	}
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	return out, nil
}

// xzDictSize reads the dictionary size of an XZ stream's first block, whose only filter must be
// LZMA2 (as systemd writes it): stream header (12 bytes), then the block header: its size, flags
// (filter count, optional sizes), and per filter an id, a properties size and the properties.
func xzDictSize(src []byte) (uint64, error) {
	const streamHeader = 12
	if len(src) < streamHeader+2 {
		return 0, errors.New("stream too short for a block header")
	}
	b := src[streamHeader:]
	hdrLen := (int(b[0]) + 1) * 4
	if b[0] == 0 || hdrLen > len(b) {
		return 0, errors.New("no block header")
	}
	b, flags := b[2:hdrLen], b[1]
	if flags&3 != 0 {
		return 0, errors.New("more than one filter (systemd writes LZMA2 alone)")
	}
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} { // compressed, uncompressed size
		if present {
			if _, n := binary.Uvarint(b); n > 0 {
				b = b[n:]
			} else {
				return 0, errors.New("bad size in block header")
			}
		}
	}
	id, n := binary.Uvarint(b)
	if n <= 0 || id != 0x21 {
		return 0, fmt.Errorf("filter %#x, not LZMA2", id)
	}
	b = b[n:]
	if size, n := binary.Uvarint(b); n <= 0 || size != 1 || len(b) < n+1 {
		return 0, errors.New("bad LZMA2 properties")
	} else {
		b = b[n:]
	}
	p := b[0]
	switch {
	case p > 40:
		return 0, fmt.Errorf("bad LZMA2 dictionary size %d", p)
	case p == 40:
		return 1<<32 - 1, nil
	}
	return uint64(2|p&1) << (p/2 + 11), nil
}
