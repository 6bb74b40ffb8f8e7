//! Buckets: lookups and in-order listings over a checked B+tree.

use std::collections::HashSet;

use super::error::{BoltError, Corruption};
use super::format::{self, BUCKET_HEADER_SIZE, LEAF_FLAG_BUCKET};
use super::page::{self, Kind, Page};
use super::BoltDb;

/// Deepest B+tree we follow. A real tree of a few million keys is 4-5 levels deep.
pub(crate) const MAX_TREE_DEPTH: usize = 64;
/// Deepest bucket nesting we open. Podman nests 3 levels (`ctr/<id>/dependencies`).
pub(crate) const MAX_BUCKET_DEPTH: usize = 64;

/// A bucket of a [`BoltDb`]: a sorted map of keys to values and sub-buckets.
#[derive(Debug, Clone)]
pub struct Bucket<'a> {
    db: &'a BoltDb,
    root: Root<'a>,
    depth: usize,
    name: String,
}

#[derive(Debug, Clone, Copy)]
enum Root<'a> {
    /// The bucket's tree starts at this page.
    Page(u64),
    /// An inline bucket: its single leaf page is stored in the parent's value.
    Inline(Page<'a>),
}

/// One element of a bucket, as [`Bucket::entries`] lists them.
#[derive(Debug, Clone)]
pub enum Entry<'a> {
    /// A key with a value.
    Value {
        /// The key.
        key: &'a [u8],
        /// The value.
        value: &'a [u8],
    },
    /// A key naming a sub-bucket.
    Bucket {
        /// The key.
        key: &'a [u8],
        /// The sub-bucket.
        bucket: Bucket<'a>,
    },
}

impl<'a> Entry<'a> {
    /// The element's key.
    pub fn key(&self) -> &'a [u8] {
        match self {
            Entry::Value { key, .. } | Entry::Bucket { key, .. } => key,
        }
    }
}

impl<'a> Bucket<'a> {
    /// The root bucket of `db` (the meta's root).
    pub(crate) fn root_of(db: &'a BoltDb, pgid: u64) -> Self {
        Bucket {
            db,
            root: Root::Page(pgid),
            depth: 0,
            name: String::new(),
        }
    }

    /// The bucket's path from the root (`ctr/<id>`), empty for the root bucket; for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn error(&self, what: Corruption) -> BoltError {
        BoltError::Corrupt {
            path: self.db.path().to_path_buf(),
            bucket: Some(self.name.clone()),
            what,
        }
    }

    fn root_page(&self) -> Result<Page<'a>, Corruption> {
        match self.root {
            Root::Page(pgid) => self.db.page(pgid),
            Root::Inline(page) => Ok(page),
        }
    }

    /// The leaf element stored under `key`, found by descending from the bucket's root.
    fn find(&self, key: &[u8]) -> Result<Option<page::Leaf<'a>>, Corruption> {
        let mut page = self.root_page()?;
        let mut path: Vec<u64> = page.pgid.into_iter().collect();
        loop {
            match page.kind {
                Kind::Leaf => {
                    return match page.search(key)? {
                        Ok(index) => page.leaf(index).map(Some),
                        Err(_) => Ok(None),
                    };
                }
                Kind::Branch => {
                    let index = match page.search(key)? {
                        Ok(index) => index,
                        Err(0) => 0,
                        Err(after) => after - 1,
                    };
                    let (_, child) = page.branch(index)?;
                    if path.contains(&child) {
                        return Err(Corruption::PageReachedTwice { pgid: child });
                    }
                    if path.len() >= MAX_TREE_DEPTH {
                        return Err(Corruption::TooDeep {
                            limit: MAX_TREE_DEPTH,
                        });
                    }
                    path.push(child);
                    page = self.db.page(child)?;
                }
            }
        }
    }

    /// The value stored under `key`; `None` when the key is absent or names a sub-bucket.
    pub fn get(&self, key: &[u8]) -> Result<Option<&'a [u8]>, BoltError> {
        match self.find(key).map_err(|e| self.error(e))? {
            Some(leaf) if leaf.flags & LEAF_FLAG_BUCKET == 0 => Ok(Some(leaf.value)),
            _ => Ok(None),
        }
    }

    /// The sub-bucket under `key`; `None` when the key is absent or holds a plain value.
    pub fn bucket(&self, key: &[u8]) -> Result<Option<Bucket<'a>>, BoltError> {
        match self.find(key).map_err(|e| self.error(e))? {
            Some(leaf) if leaf.flags & LEAF_FLAG_BUCKET != 0 => self
                .child(leaf.key, leaf.value)
                .map(Some)
                .map_err(|e| self.error(e)),
            _ => Ok(None),
        }
    }

    /// Opens the sub-bucket whose element has `key` and bucket value `value`.
    fn child(&self, key: &[u8], value: &'a [u8]) -> Result<Bucket<'a>, Corruption> {
        if self.depth + 1 >= MAX_BUCKET_DEPTH {
            return Err(Corruption::TooDeep {
                limit: MAX_BUCKET_DEPTH,
            });
        }
        let header = match format::bucket_header(value) {
            Ok((_, h)) => h,
            Err(_) => return Err(Corruption::BadBucketValue { len: value.len() }),
        };
        let root = if header.root == 0 {
            let mini = value.get(BUCKET_HEADER_SIZE..).unwrap_or_default();
            Root::Inline(page::inline_page(mini)?)
        } else {
            Root::Page(header.root)
        };
        let mut name = self.name.clone();
        if !name.is_empty() {
            name.push('/');
        }
        name.push_str(&String::from_utf8_lossy(key));
        Ok(Bucket {
            db: self.db,
            root,
            depth: self.depth + 1,
            name,
        })
    }

    /// Every element of the bucket in key order, values and sub-buckets alike.
    pub fn entries(&self) -> Result<Vec<Entry<'a>>, BoltError> {
        let mut visited = HashSet::new();
        self.entries_with(&mut visited)
            .map_err(|(bucket, what)| bucket_error(self.db, bucket, what))
    }

    /// Like [`entries`](Self::entries), sharing `visited` with the caller so that a walk of
    /// the whole file sees each page once. Errors carry the name of the failing bucket.
    pub(crate) fn entries_with(
        &self,
        visited: &mut HashSet<u64>,
    ) -> Result<Vec<Entry<'a>>, (String, Corruption)> {
        let fail = |what| (self.name.clone(), what);
        let mut out = Vec::new();
        let root = self.root_page().map_err(fail)?;
        if let Some(pgid) = root.pgid {
            if !visited.insert(pgid) {
                return Err(fail(Corruption::PageReachedTwice { pgid }));
            }
        }
        self.collect(root, 0, visited, &mut out).map_err(fail)?;
        Ok(out)
    }

    fn collect(
        &self,
        page: Page<'a>,
        depth: usize,
        visited: &mut HashSet<u64>,
        out: &mut Vec<Entry<'a>>,
    ) -> Result<(), Corruption> {
        if depth >= MAX_TREE_DEPTH {
            return Err(Corruption::TooDeep {
                limit: MAX_TREE_DEPTH,
            });
        }
        for index in 0..page.count {
            match page.kind {
                Kind::Branch => {
                    let (_, child) = page.branch(index)?;
                    if !visited.insert(child) {
                        return Err(Corruption::PageReachedTwice { pgid: child });
                    }
                    let child_page = self.db.page(child)?;
                    self.collect(child_page, depth + 1, visited, out)?;
                }
                Kind::Leaf => {
                    let leaf = page.leaf(index)?;
                    if out.last().is_some_and(|prev| prev.key() >= leaf.key) {
                        return Err(Corruption::KeysOutOfOrder {
                            pgid: page.pgid,
                            index,
                        });
                    }
                    out.push(if leaf.flags & LEAF_FLAG_BUCKET != 0 {
                        Entry::Bucket {
                            key: leaf.key,
                            bucket: self.child(leaf.key, leaf.value)?,
                        }
                    } else {
                        Entry::Value {
                            key: leaf.key,
                            value: leaf.value,
                        }
                    });
                }
            }
        }
        Ok(())
    }

    /// Walks this bucket and every bucket below it, each page once.
    pub(crate) fn verify(&self, visited: &mut HashSet<u64>) -> Result<(), (String, Corruption)> {
        for entry in self.entries_with(visited)? {
            if let Entry::Bucket { bucket, .. } = entry {
                bucket.verify(visited)?;
            }
        }
        Ok(())
    }
}

pub(crate) fn bucket_error(db: &BoltDb, bucket: String, what: Corruption) -> BoltError {
    BoltError::Corrupt {
        path: db.path().to_path_buf(),
        bucket: Some(bucket),
        what,
    }
}
