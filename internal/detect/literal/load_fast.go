//go:build amd64 || 386 || arm64 || ppc64le || loong64

package literal

import "unsafe"

// load32 reads four bytes at base+p as a little-endian uint32 in one unaligned load; these
// architectures are little-endian and allow unaligned loads. The caller guarantees that the
// four bytes lie inside the block: the hot loop cannot afford a bounds check per sample.
func load32(base unsafe.Pointer, p int) uint32 {
	return *(*uint32)(unsafe.Add(base, p))
}
