//! Writes a whole BoltDB file in one go from a tree of buckets and values.
//!
//! This is for tests and fixtures: any scenario (a thousand containers, odd names) can be
//! built as typed values and written as a file bbolt (and so podman) opens and keeps using.
//! The file is what bbolt would have after one transaction: two meta pages (txid 0 and 1),
//! an empty freelist page, then the pages of the root bucket's tree. Sub-buckets get their
//! own pages, or are stored inline in their parent's value when bbolt would do so (a single
//! leaf, no sub-buckets, at most a quarter page). Values too big for a page run into
//! overflow pages; a bucket too big for a page is split into leaves under branch pages.

use std::collections::BTreeMap;

use super::format::{
    Meta, PageHeader, BUCKET_HEADER_SIZE, ELEMENT_SIZE, FLAG_BRANCH, FLAG_FREELIST, FLAG_LEAF,
    FLAG_META, LEAF_FLAG_BUCKET, MAGIC, MAX_PAGE_SIZE, MIN_PAGE_SIZE, NO_FREELIST,
    PAGE_HEADER_SIZE, VERSION,
};

/// bbolt refuses keys longer than this.
pub const MAX_KEY_SIZE: usize = 32768;

/// A bucket's contents: keys (sorted bytewise by the map) to values or sub-buckets.
pub type BoltTree = BTreeMap<Vec<u8>, Node>;

/// One element of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A plain value.
    Value(Vec<u8>),
    /// A sub-bucket.
    Bucket(BoltTree),
}

impl Node {
    /// A value from anything byte-like.
    pub fn value(bytes: impl Into<Vec<u8>>) -> Self {
        Node::Value(bytes.into())
    }

    /// An empty sub-bucket.
    pub fn empty_bucket() -> Self {
        Node::Bucket(BoltTree::new())
    }
}

/// The tree cannot be written as a file bbolt accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The page size is outside what the reader accepts.
    #[error("page size {0} is not between {MIN_PAGE_SIZE} and {MAX_PAGE_SIZE}")]
    BadPageSize(u32),
    /// bbolt refuses empty keys.
    #[error("empty key in bucket {bucket:?}")]
    EmptyKey {
        /// The bucket's path.
        bucket: String,
    },
    /// bbolt refuses keys over 32 KiB; values must fit a u32 length.
    #[error("key or value too large in bucket {bucket:?}")]
    TooLarge {
        /// The bucket's path.
        bucket: String,
    },
}

/// Options of a write; [`Default`] is a 4 KiB page and a persisted (empty) freelist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writer {
    page_size: u32,
    persist_freelist: bool,
}

impl Default for Writer {
    fn default() -> Self {
        Writer {
            page_size: 4096,
            persist_freelist: true,
        }
    }
}

/// Writes `tree` (the root bucket; podman's top level holds only buckets) with defaults.
pub fn write(tree: &BoltTree) -> Result<Vec<u8>, WriteError> {
    Writer::default().write(tree)
}

impl Writer {
    /// A writer with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the page size (bbolt uses the OS page size: 4096, 16384, 65536).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }

    /// When false, the meta says the freelist is not persisted (bbolt's `NoFreelistSync`),
    /// and no freelist page is written.
    pub fn persist_freelist(mut self, persist: bool) -> Self {
        self.persist_freelist = persist;
        self
    }

    /// Writes `tree` as the root bucket of a new file and returns the file's bytes.
    pub fn write(&self, tree: &BoltTree) -> Result<Vec<u8>, WriteError> {
        if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&self.page_size) {
            return Err(WriteError::BadPageSize(self.page_size));
        }
        let page_size = self.page_size as usize;
        let mut file = File {
            page_size,
            bytes: vec![0; 2 * page_size],
            next: 2,
        };
        let freelist = if self.persist_freelist {
            let pgid = file.alloc(PAGE_HEADER_SIZE);
            file.put(pgid, &page_bytes(pgid, FLAG_FREELIST, 0, 0, &[]));
            pgid
        } else {
            NO_FREELIST
        };
        let elements = file.elements(tree, "")?;
        let root = file.tree(elements);
        for txid in 0..2u64 {
            let meta = Meta {
                magic: MAGIC,
                version: VERSION,
                page_size: self.page_size,
                flags: 0,
                root,
                sequence: 0,
                freelist,
                pgid: file.next,
                txid,
                checksum: 0,
            };
            let header = PageHeader {
                id: txid,
                flags: FLAG_META,
                count: 0,
                overflow: 0,
            };
            let mut page = header.to_bytes().to_vec();
            page.extend_from_slice(&meta.to_bytes());
            file.put(txid, &page);
        }
        Ok(file.bytes)
    }
}

/// A leaf element before it is laid out: flags, key, value.
type LeafItem = (u32, Vec<u8>, Vec<u8>);

/// The file being built, page by page.
struct File {
    page_size: usize,
    bytes: Vec<u8>,
    next: u64,
}

impl File {
    /// Allocates enough contiguous pages for `len` bytes and returns the first id.
    fn alloc(&mut self, len: usize) -> u64 {
        let pages = len.div_ceil(self.page_size).max(1) as u64;
        let pgid = self.next;
        self.next += pages;
        self.bytes.resize(self.next as usize * self.page_size, 0);
        pgid
    }

    fn put(&mut self, pgid: u64, page: &[u8]) {
        let start = pgid as usize * self.page_size;
        self.bytes[start..start + page.len()].copy_from_slice(page);
    }

    /// The leaf items of a bucket, writing its non-inline sub-buckets on the way.
    fn elements(&mut self, tree: &BoltTree, path: &str) -> Result<Vec<LeafItem>, WriteError> {
        let mut items = Vec::with_capacity(tree.len());
        for (key, node) in tree {
            let here = || format!("{path}/{}", String::from_utf8_lossy(key));
            if key.is_empty() {
                return Err(WriteError::EmptyKey {
                    bucket: path.to_string(),
                });
            }
            if key.len() > MAX_KEY_SIZE {
                return Err(WriteError::TooLarge {
                    bucket: path.to_string(),
                });
            }
            match node {
                Node::Value(v) => {
                    if u32::try_from(v.len()).is_err() {
                        return Err(WriteError::TooLarge {
                            bucket: path.to_string(),
                        });
                    }
                    items.push((0, key.clone(), v.clone()));
                }
                Node::Bucket(sub) => {
                    let value = self.bucket_value(sub, &here())?;
                    items.push((LEAF_FLAG_BUCKET, key.clone(), value));
                }
            }
        }
        Ok(items)
    }

    /// A sub-bucket's value: its header, plus its page when it is stored inline.
    fn bucket_value(&mut self, tree: &BoltTree, path: &str) -> Result<Vec<u8>, WriteError> {
        let items = self.elements(tree, path)?;
        let has_sub_buckets = items.iter().any(|(f, _, _)| f & LEAF_FLAG_BUCKET != 0);
        let size = leaf_size(&items);
        let mut value = Vec::with_capacity(BUCKET_HEADER_SIZE);
        if !has_sub_buckets && size <= self.page_size / 4 {
            value.extend_from_slice(&0u64.to_le_bytes());
            value.extend_from_slice(&0u64.to_le_bytes());
            value.extend_from_slice(&leaf_page(0, 0, &items));
        } else {
            let root = self.tree(items);
            value.extend_from_slice(&root.to_le_bytes());
            value.extend_from_slice(&0u64.to_le_bytes());
        }
        Ok(value)
    }

    /// Writes a bucket's items as leaves under as many branch levels as needed; returns
    /// the root page.
    fn tree(&mut self, items: Vec<LeafItem>) -> u64 {
        let mut level: Vec<(Vec<u8>, u64)> = Vec::new();
        for chunk in split(&items, self.page_size, 1, |(_, k, v)| {
            ELEMENT_SIZE + k.len() + v.len()
        }) {
            let size = leaf_size(chunk);
            let pgid = self.alloc(size);
            let overflow = (size.div_ceil(self.page_size).max(1) - 1) as u32;
            self.put(pgid, &leaf_page(pgid, overflow, chunk));
            let first = chunk.first().map(|(_, k, _)| k.clone()).unwrap_or_default();
            level.push((first, pgid));
        }
        while level.len() > 1 {
            let mut up = Vec::new();
            for chunk in split(&level, self.page_size, 2, |(k, _)| ELEMENT_SIZE + k.len()) {
                let size = PAGE_HEADER_SIZE
                    + chunk
                        .iter()
                        .map(|(k, _)| ELEMENT_SIZE + k.len())
                        .sum::<usize>();
                let pgid = self.alloc(size);
                let overflow = (size.div_ceil(self.page_size).max(1) - 1) as u32;
                self.put(pgid, &branch_page(pgid, overflow, chunk));
                up.push((chunk[0].0.clone(), pgid));
            }
            level = up;
        }
        level.first().map(|(_, pgid)| *pgid).unwrap_or_else(|| {
            // An empty bucket is one empty leaf.
            let pgid = self.alloc(PAGE_HEADER_SIZE);
            self.put(pgid, &leaf_page(pgid, 0, &[]));
            pgid
        })
    }
}

/// Splits `items` into runs that fit a page; a run holds at least `min` items (then it
/// may need overflow pages), so every branch level has fewer pages than the one below.
fn split<T>(items: &[T], page_size: usize, min: usize, size: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut runs = Vec::new();
    let (mut start, mut used) = (0usize, PAGE_HEADER_SIZE);
    for (i, item) in items.iter().enumerate() {
        let s = size(item);
        let count = i - start;
        if count >= min && (used + s > page_size || count >= usize::from(u16::MAX)) {
            runs.push(&items[start..i]);
            start = i;
            used = PAGE_HEADER_SIZE;
        }
        used += s;
    }
    if start < items.len() {
        runs.push(&items[start..]);
    }
    runs
}

fn leaf_size(items: &[LeafItem]) -> usize {
    PAGE_HEADER_SIZE
        + items
            .iter()
            .map(|(_, k, v)| ELEMENT_SIZE + k.len() + v.len())
            .sum::<usize>()
}

/// A page: header, the element array, then the data the elements point at.
fn page_bytes(pgid: u64, flags: u16, count: usize, overflow: u32, rest: &[u8]) -> Vec<u8> {
    let header = PageHeader {
        id: pgid,
        flags,
        count: count as u16,
        overflow,
    };
    let mut out = header.to_bytes().to_vec();
    out.extend_from_slice(rest);
    out
}

fn leaf_page(pgid: u64, overflow: u32, items: &[LeafItem]) -> Vec<u8> {
    let mut elements = Vec::with_capacity(items.len() * ELEMENT_SIZE);
    let mut data = Vec::new();
    for (i, (flags, key, value)) in items.iter().enumerate() {
        // `pos` counts from the element's own start to its key.
        let pos = (items.len() - i) * ELEMENT_SIZE + data.len();
        elements.extend_from_slice(&flags.to_le_bytes());
        elements.extend_from_slice(&(pos as u32).to_le_bytes());
        elements.extend_from_slice(&(key.len() as u32).to_le_bytes());
        elements.extend_from_slice(&(value.len() as u32).to_le_bytes());
        data.extend_from_slice(key);
        data.extend_from_slice(value);
    }
    elements.extend_from_slice(&data);
    page_bytes(pgid, FLAG_LEAF, items.len(), overflow, &elements)
}

fn branch_page(pgid: u64, overflow: u32, children: &[(Vec<u8>, u64)]) -> Vec<u8> {
    let mut elements = Vec::with_capacity(children.len() * ELEMENT_SIZE);
    let mut data = Vec::new();
    for (i, (key, child)) in children.iter().enumerate() {
        let pos = (children.len() - i) * ELEMENT_SIZE + data.len();
        elements.extend_from_slice(&(pos as u32).to_le_bytes());
        elements.extend_from_slice(&(key.len() as u32).to_le_bytes());
        elements.extend_from_slice(&child.to_le_bytes());
        data.extend_from_slice(key);
    }
    elements.extend_from_slice(&data);
    page_bytes(pgid, FLAG_BRANCH, children.len(), overflow, &elements)
}
