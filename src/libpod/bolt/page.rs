//! Checked access to the pages of an in-memory BoltDB file.
//!
//! Every page is reached by id from a parent and checked before use: the id is a data page
//! below the high-water mark, the header names the same id, the flag is the expected kind,
//! the page and its overflow lie inside the file, and each element's key and value lie inside
//! the page. Nothing here can index out of bounds on any input.

use std::cmp::Ordering;

use super::error::Corruption;
use super::format::{
    self, BranchElement, LeafElement, Meta, ELEMENT_SIZE, FLAG_BRANCH, FLAG_LEAF, PAGE_HEADER_SIZE,
};

/// The kind of a B+tree page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Branch,
    Leaf,
}

/// A checked B+tree page: its bytes (with overflow) and its element count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page<'a> {
    /// The page id, `None` for an inline bucket's mini page.
    pub pgid: Option<u64>,
    /// From the page header to the end of the last overflow page (or of the inline value).
    bytes: &'a [u8],
    pub kind: Kind,
    pub count: usize,
}

/// One leaf element, resolved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leaf<'a> {
    pub flags: u32,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

/// Finds page `pgid` in `data` and checks it is a branch or leaf page.
pub(crate) fn data_page<'a>(
    data: &'a [u8],
    page_size: usize,
    meta: &Meta,
    pgid: u64,
) -> Result<Page<'a>, Corruption> {
    if pgid < 2 || pgid >= meta.pgid {
        return Err(Corruption::PageOutOfRange {
            pgid,
            high_water: meta.pgid,
        });
    }
    let start = usize::try_from(pgid)
        .ok()
        .and_then(|p| p.checked_mul(page_size));
    let header_bytes = start.and_then(|s| data.get(s..s.checked_add(PAGE_HEADER_SIZE)?));
    let (Some(start), Some(header_bytes)) = (start, header_bytes) else {
        return Err(Corruption::PageBeyondEof {
            pgid,
            overflow: 0,
            file_len: data.len(),
        });
    };
    let header = match format::page_header(header_bytes) {
        Ok((_, h)) => h,
        Err(_) => {
            return Err(Corruption::PageBeyondEof {
                pgid,
                overflow: 0,
                file_len: data.len(),
            })
        }
    };
    if header.id != pgid {
        return Err(Corruption::PageIdMismatch {
            expected: pgid,
            found: header.id,
        });
    }
    let kind = match header.flags {
        FLAG_BRANCH => Kind::Branch,
        FLAG_LEAF => Kind::Leaf,
        flags => {
            return Err(Corruption::UnexpectedPageFlags {
                pgid: Some(pgid),
                flags,
                expected: "a branch (0x0001) or leaf (0x0002) page",
            })
        }
    };
    let last = pgid.checked_add(u64::from(header.overflow));
    if last.is_none_or(|last| last >= meta.pgid) {
        return Err(Corruption::OverflowOutOfRange {
            pgid,
            overflow: header.overflow,
            high_water: meta.pgid,
        });
    }
    let span = usize::try_from(header.overflow)
        .ok()
        .and_then(|o| o.checked_add(1))
        .and_then(|pages| pages.checked_mul(page_size));
    let bytes = span
        .and_then(|span| start.checked_add(span))
        .and_then(|end| data.get(start..end));
    let Some(bytes) = bytes else {
        return Err(Corruption::PageBeyondEof {
            pgid,
            overflow: header.overflow,
            file_len: data.len(),
        });
    };
    Page::new(Some(pgid), bytes, kind, header.count)
}

/// Checks an inline bucket's mini page (the bytes after the bucket header).
pub(crate) fn inline_page(bytes: &[u8]) -> Result<Page<'_>, Corruption> {
    let header = match format::page_header(bytes) {
        Ok((_, h)) => h,
        Err(_) => {
            return Err(Corruption::BadBucketValue {
                len: bytes.len() + format::BUCKET_HEADER_SIZE,
            })
        }
    };
    if header.flags != FLAG_LEAF {
        return Err(Corruption::UnexpectedPageFlags {
            pgid: None,
            flags: header.flags,
            expected: "a leaf (0x0002) page",
        });
    }
    Page::new(None, bytes, Kind::Leaf, header.count)
}

impl<'a> Page<'a> {
    fn new(pgid: Option<u64>, bytes: &'a [u8], kind: Kind, count: u16) -> Result<Self, Corruption> {
        let needed = PAGE_HEADER_SIZE + usize::from(count) * ELEMENT_SIZE;
        if needed > bytes.len() {
            return Err(Corruption::ElementsOutOfBounds { pgid, count });
        }
        if kind == Kind::Branch && count == 0 {
            return Err(Corruption::EmptyBranch {
                pgid: pgid.unwrap_or_default(),
            });
        }
        Ok(Page {
            pgid,
            bytes,
            kind,
            count: usize::from(count),
        })
    }

    /// The element bytes of element `index` and its offset in the page.
    fn element(&self, index: usize) -> Result<(usize, &'a [u8]), Corruption> {
        let at = PAGE_HEADER_SIZE + index * ELEMENT_SIZE;
        if index >= self.count {
            return Err(self.out_of_bounds(index));
        }
        let bytes = self
            .bytes
            .get(at..at + ELEMENT_SIZE)
            .ok_or_else(|| self.out_of_bounds(index))?;
        Ok((at, bytes))
    }

    fn out_of_bounds(&self, index: usize) -> Corruption {
        Corruption::ElementOutOfBounds {
            pgid: self.pgid,
            index,
        }
    }

    /// `len` bytes at `pos` past offset `at`, checked against the page.
    fn slice(&self, index: usize, at: usize, pos: u32, len: u32) -> Result<&'a [u8], Corruption> {
        let start = usize::try_from(pos).ok().and_then(|p| at.checked_add(p));
        let end = start.and_then(|s| s.checked_add(usize::try_from(len).ok()?));
        match (start, end) {
            (Some(s), Some(e)) => self
                .bytes
                .get(s..e)
                .ok_or_else(|| self.out_of_bounds(index)),
            _ => Err(self.out_of_bounds(index)),
        }
    }

    /// Branch element `index`: the child's first key and the child's page id.
    pub(super) fn branch(&self, index: usize) -> Result<(&'a [u8], u64), Corruption> {
        let (at, raw) = self.element(index)?;
        let (_, BranchElement { pos, ksize, pgid }) =
            format::branch_element(raw).map_err(|_| self.out_of_bounds(index))?;
        let key = self.slice(index, at, pos, ksize)?;
        Ok((key, pgid))
    }

    /// Leaf element `index`: flags, key and value.
    pub(super) fn leaf(&self, index: usize) -> Result<Leaf<'a>, Corruption> {
        let (at, raw) = self.element(index)?;
        let (
            _,
            LeafElement {
                flags,
                pos,
                ksize,
                vsize,
            },
        ) = format::leaf_element(raw).map_err(|_| self.out_of_bounds(index))?;
        let both = ksize
            .checked_add(vsize)
            .ok_or_else(|| self.out_of_bounds(index))?;
        let kv = self.slice(index, at, pos, both)?;
        let (key, value) = kv.split_at(ksize as usize);
        Ok(Leaf { flags, key, value })
    }

    /// The key of element `index`, whatever the page kind.
    pub(super) fn key(&self, index: usize) -> Result<&'a [u8], Corruption> {
        match self.kind {
            Kind::Branch => self.branch(index).map(|(k, _)| k),
            Kind::Leaf => self.leaf(index).map(|l| l.key),
        }
    }

    /// For a branch: the index of the child that may hold `key` (the last element whose key
    /// is <= `key`, or the first one). For a leaf: the index of the exact match.
    pub(super) fn search(&self, key: &[u8]) -> Result<Result<usize, usize>, Corruption> {
        let (mut lo, mut hi) = (0usize, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.key(mid)?.cmp(key) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Ok(Ok(mid)),
            }
        }
        Ok(Err(lo))
    }
}
