//go:build !(amd64 || 386 || arm64 || ppc64le || loong64)

package literal

import "unsafe"

// load32 reads four bytes at base+p as a little-endian uint32, byte by byte, for
// architectures that are big-endian or fault on unaligned loads. The caller guarantees that
// the four bytes lie inside the block.
func load32(base unsafe.Pointer, p int) uint32 {
	b := (*[4]byte)(unsafe.Add(base, p))
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
