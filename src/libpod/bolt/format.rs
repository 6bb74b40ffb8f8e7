//! The on-disk records of a BoltDB file (format version 2) and their nom parsers.
//!
//! Integers are little-endian: bbolt maps its structs straight onto the file in the host's
//! byte order, and every host podman runs on that we support (x86_64, aarch64) is
//! little-endian. Nothing here knows about files or paths; the parsers take byte slices.

use nom::number::complete::{le_u16, le_u32, le_u64};
use nom::{IResult, Parser};

/// `magic` of a meta page.
pub const MAGIC: u32 = 0xED0C_DAED;
/// The only on-disk format version bbolt has ever written.
pub const VERSION: u32 = 2;
/// Size of the header every page (and every inline bucket's mini page) starts with.
pub const PAGE_HEADER_SIZE: usize = 16;
/// Size of one branch or leaf element.
pub const ELEMENT_SIZE: usize = 16;
/// Size of the meta record that follows a meta page's header.
pub const META_SIZE: usize = 64;
/// The checksum covers the meta record up to (not including) the checksum itself.
pub const META_CHECKSUM_COVERS: usize = 56;
/// Size of the bucket header (`root`, `sequence`) at the start of a bucket's value.
pub const BUCKET_HEADER_SIZE: usize = 16;

/// Page flag: a branch page of a B+tree.
pub const FLAG_BRANCH: u16 = 0x01;
/// Page flag: a leaf page of a B+tree.
pub const FLAG_LEAF: u16 = 0x02;
/// Page flag: one of the two meta pages.
pub const FLAG_META: u16 = 0x04;
/// Page flag: the persisted freelist.
pub const FLAG_FREELIST: u16 = 0x10;

/// Leaf element flag: the element is a sub-bucket, its value a bucket header.
pub const LEAF_FLAG_BUCKET: u32 = 0x01;

/// The freelist pgid that says "the freelist is not persisted".
pub const NO_FREELIST: u64 = u64::MAX;

/// Smallest and largest page size we accept from a meta. bbolt takes the OS page size
/// (4 KiB, 16 KiB, 64 KiB); anything outside this range is a corrupt meta, not a real file.
pub const MIN_PAGE_SIZE: u32 = 256;
/// See [`MIN_PAGE_SIZE`].
pub const MAX_PAGE_SIZE: u32 = 1 << 24;

/// The 16-byte header of every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageHeader {
    /// The page's own id (its number in the file).
    pub id: u64,
    /// Exactly one of the `FLAG_*` values in a valid page.
    pub flags: u16,
    /// Number of elements.
    pub count: u16,
    /// Number of extra pages this page runs into.
    pub overflow: u32,
}

/// The meta record of page 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Must be [`MAGIC`].
    pub magic: u32,
    /// Must be [`VERSION`].
    pub version: u32,
    /// The page size every page offset is a multiple of.
    pub page_size: u32,
    /// Unused by bbolt.
    pub flags: u32,
    /// Root page of the root bucket.
    pub root: u64,
    /// Sequence of the root bucket.
    pub sequence: u64,
    /// Page of the persisted freelist, or [`NO_FREELIST`].
    pub freelist: u64,
    /// High-water mark: pages at or above this id are not in use.
    pub pgid: u64,
    /// Transaction id of the commit that wrote this meta.
    pub txid: u64,
    /// FNV-1a 64 of the record's first 56 bytes.
    pub checksum: u64,
}

/// A branch element: the first key of a child page and the child's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchElement {
    /// Offset of the key from the element's own start.
    pub pos: u32,
    /// Key length.
    pub ksize: u32,
    /// The child page.
    pub pgid: u64,
}

/// A leaf element: a key and its value (or sub-bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafElement {
    /// [`LEAF_FLAG_BUCKET`] for a sub-bucket.
    pub flags: u32,
    /// Offset of the key from the element's own start; the value follows the key.
    pub pos: u32,
    /// Key length.
    pub ksize: u32,
    /// Value length.
    pub vsize: u32,
}

/// The header at the start of a sub-bucket's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketHeader {
    /// Root page of the bucket, 0 for an inline bucket (its mini page follows the header).
    pub root: u64,
    /// The bucket's sequence counter.
    pub sequence: u64,
}

/// Parses a page header.
pub fn page_header(input: &[u8]) -> IResult<&[u8], PageHeader> {
    let (rest, (id, flags, count, overflow)) = (le_u64, le_u16, le_u16, le_u32).parse(input)?;
    Ok((
        rest,
        PageHeader {
            id,
            flags,
            count,
            overflow,
        },
    ))
}

/// Parses a meta record (the 64 bytes after a meta page's header).
pub fn meta(input: &[u8]) -> IResult<&[u8], Meta> {
    let (rest, (magic, version, page_size, flags)) =
        (le_u32, le_u32, le_u32, le_u32).parse(input)?;
    let (rest, (root, sequence, freelist, pgid, txid, checksum)) =
        (le_u64, le_u64, le_u64, le_u64, le_u64, le_u64).parse(rest)?;
    Ok((
        rest,
        Meta {
            magic,
            version,
            page_size,
            flags,
            root,
            sequence,
            freelist,
            pgid,
            txid,
            checksum,
        },
    ))
}

/// Parses a branch element.
pub fn branch_element(input: &[u8]) -> IResult<&[u8], BranchElement> {
    let (rest, (pos, ksize, pgid)) = (le_u32, le_u32, le_u64).parse(input)?;
    Ok((rest, BranchElement { pos, ksize, pgid }))
}

/// Parses a leaf element.
pub fn leaf_element(input: &[u8]) -> IResult<&[u8], LeafElement> {
    let (rest, (flags, pos, ksize, vsize)) = (le_u32, le_u32, le_u32, le_u32).parse(input)?;
    Ok((
        rest,
        LeafElement {
            flags,
            pos,
            ksize,
            vsize,
        },
    ))
}

/// Parses a bucket header.
pub fn bucket_header(input: &[u8]) -> IResult<&[u8], BucketHeader> {
    let (rest, (root, sequence)) = (le_u64, le_u64).parse(input)?;
    Ok((rest, BucketHeader { root, sequence }))
}

/// FNV-1a, 64 bit: the meta checksum.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}

impl PageHeader {
    /// The header's 16 bytes.
    pub fn to_bytes(self) -> [u8; PAGE_HEADER_SIZE] {
        let mut out = [0u8; PAGE_HEADER_SIZE];
        out[0..8].copy_from_slice(&self.id.to_le_bytes());
        out[8..10].copy_from_slice(&self.flags.to_le_bytes());
        out[10..12].copy_from_slice(&self.count.to_le_bytes());
        out[12..16].copy_from_slice(&self.overflow.to_le_bytes());
        out
    }
}

impl Meta {
    /// The record's 64 bytes, with the checksum recomputed over the first 56.
    pub fn to_bytes(self) -> [u8; META_SIZE] {
        let mut out = [0u8; META_SIZE];
        out[0..4].copy_from_slice(&self.magic.to_le_bytes());
        out[4..8].copy_from_slice(&self.version.to_le_bytes());
        out[8..12].copy_from_slice(&self.page_size.to_le_bytes());
        out[12..16].copy_from_slice(&self.flags.to_le_bytes());
        out[16..24].copy_from_slice(&self.root.to_le_bytes());
        out[24..32].copy_from_slice(&self.sequence.to_le_bytes());
        out[32..40].copy_from_slice(&self.freelist.to_le_bytes());
        out[40..48].copy_from_slice(&self.pgid.to_le_bytes());
        out[48..56].copy_from_slice(&self.txid.to_le_bytes());
        let sum = fnv1a64(&out[..META_CHECKSUM_COVERS]);
        out[56..64].copy_from_slice(&sum.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_known_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn meta_round_trips_and_checksum_covers_56_bytes() {
        let m = Meta {
            magic: MAGIC,
            version: VERSION,
            page_size: 4096,
            flags: 0,
            root: 3,
            sequence: 0,
            freelist: 2,
            pgid: 4,
            txid: 7,
            checksum: 0,
        };
        let bytes = m.to_bytes();
        let (rest, parsed) = meta(&bytes).unwrap();
        assert!(rest.is_empty());
        assert_eq!(parsed.checksum, fnv1a64(&bytes[..56]));
        assert_eq!(
            Meta {
                checksum: 0,
                ..parsed
            },
            m
        );
    }

    #[test]
    fn short_input_is_an_error_not_a_panic() {
        assert!(page_header(&[0u8; 15]).is_err());
        assert!(meta(&[0u8; 63]).is_err());
        assert!(leaf_element(&[1, 2, 3]).is_err());
    }
}
