// Package journal reads systemd journal files without systemd: the capture agent (internal/agent)
// runs in a distroless image with no journalctl, and a journalctl shipped in a container may be
// older than the host's systemd and refuse its files, so nodediag reads the host's kubelet,
// containerd and kernel journals itself.
//
// It reads the on-disk format of systemd's docs/JOURNAL_FILE_FORMAT.md (headers with the
// KEYED_HASH and COMPACT incompatible flags, DATA objects compressed with XZ, LZ4 or ZSTD) by
// walking each file's entry array chain, merges the files of a journal folder in journalctl's
// order, filters as `journalctl -u UNIT`, `journalctl -k` and `--since` do, and prints what
// `journalctl -o short-iso-precise` prints, so the parsers that read journalctl's output read
// this package's unchanged. The tests hold it to real journalctl's output on files written by
// systemd itself (testdata/README.md).
//
// Files are read with ReadAt, never mapped, one entry at a time: memory stays bounded whatever
// the file's size. The files are the host's, possibly still being written, possibly corrupt or
// hostile, so every offset is checked against the file's size, chains must move forward (no
// loops), objects and decompressed fields have size limits, and a file being written (state
// ONLINE) is read up to its first inconsistent entry. Nothing here panics on bad input.
package journal
