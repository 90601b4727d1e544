package journal

// Facts of the journal file format (systemd's docs/JOURNAL_FILE_FORMAT.md and
// src/libsystemd/sd-journal/journal-def.h). All integers are little-endian.

const signature = "LPKSHHRH"

// Header field offsets. A header is at least minHeaderSize bytes (the fields up to
// tail_entry_monotonic, which every file since systemd 187 has); later fields are not needed.
const (
	offCompatibleFlags   = 8
	offIncompatibleFlags = 12
	offState             = 16
	offFileID            = 24
	offMachineID         = 40
	offSeqnumID          = 72
	offHeaderSize        = 88
	offArenaSize         = 96
	offNEntries          = 152
	offEntryArrayOffset  = 176
	offTailRealtime      = 192
	minHeaderSize        = 208
)

// Header incompatible flags: a reader that does not know one cannot read the file.
const (
	flagCompressedXZ   = 1 << 0
	flagCompressedLZ4  = 1 << 1
	flagKeyedHash      = 1 << 2
	flagCompressedZSTD = 1 << 3
	flagCompact        = 1 << 4
	knownIncompatible  = flagCompressedXZ | flagCompressedLZ4 | flagKeyedHash | flagCompressedZSTD | flagCompact
)

var incompatibleNames = []struct {
	flag uint32
	name string
}{
	{flagCompressedXZ, "COMPRESSED-XZ"}, {flagCompressedLZ4, "COMPRESSED-LZ4"}, {flagKeyedHash, "KEYED-HASH"},
	{flagCompressedZSTD, "COMPRESSED-ZSTD"}, {flagCompact, "COMPACT"},
}

// File states.
const (
	stateOffline  = 0
	stateOnline   = 1
	stateArchived = 2
)

// Object types and the object header: type (1 byte), flags (1), reserved (6), size (8).
const (
	objectData       = 1
	objectEntry      = 3
	objectEntryArray = 6
	objectHeaderSize = 16
)

// Object flags: how a DATA object's payload is compressed.
const (
	objCompressedXZ   = 1 << 0
	objCompressedLZ4  = 1 << 1
	objCompressedZSTD = 1 << 2
	objCompressedMask = objCompressedXZ | objCompressedLZ4 | objCompressedZSTD
)

// DATA object: header, hash, next_hash_offset, next_field_offset, entry_offset,
// entry_array_offset, n_entries (6×8 bytes), then in compact files two 32-bit tail fields,
// then the payload "FIELD=value".
const (
	dataPayloadRegular = objectHeaderSize + 6*8
	dataPayloadCompact = dataPayloadRegular + 2*4
)

// ENTRY object: header, seqnum, realtime, monotonic, boot_id (16), xor_hash, then items: in
// regular files {object_offset, hash} (16 bytes), in compact files a 32-bit object_offset.
const (
	entrySeqnum    = objectHeaderSize
	entryRealtime  = objectHeaderSize + 8
	entryMonotonic = objectHeaderSize + 16
	entryBootID    = objectHeaderSize + 24
	entryItems     = objectHeaderSize + 48
)

// ENTRY_ARRAY object: header, next_entry_array_offset, then items: 64-bit entry offsets in
// regular files, 32-bit in compact ones. A zero item ends the array's used part.
const entryArrayItems = objectHeaderSize + 8
