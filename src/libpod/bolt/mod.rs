//! A read-only BoltDB reader (bbolt's on-disk format version 2), for podman's
//! `bolt_state.db`, and a writer of whole files for tests and fixtures.
//!
//! Reading takes no lock: podman opens its database read-write for every operation and
//! waits on any lock we held. Instead [`BoltDb::read`] copies the file, checks it, then reads
//! the meta pages again: if the committed transaction (txid and checksum) is the same, no
//! commit happened during the copy, and since bbolt never overwrites a page the current meta
//! still references, the copy is consistent. If a commit did happen the read is retried a
//! few times, then given up with a retryable [`BoltError::Unstable`].
//!
//! The copy is then walked from the meta's root, every page checked (id in range, header id,
//! flags, element and overflow bounds, each page reached once, bounded depth), so a broken
//! file is a [`BoltError::Corrupt`] naming the file, the bucket and the page, never a panic
//! or a hang. Freed pages are never looked at: they hold stale data.

mod bucket;
mod error;
pub mod format;
mod page;
pub mod writer;

use std::collections::HashSet;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use bucket::{Bucket, Entry};
pub use error::{BoltError, Corruption, MetaProblem};

use crate::host::HostRoot;
use format::{Meta, FLAG_META, MAGIC, MAX_PAGE_SIZE, META_SIZE, MIN_PAGE_SIZE, PAGE_HEADER_SIZE};

/// How many times [`BoltDb::read`] copies a file that keeps changing.
pub const MAX_READ_ATTEMPTS: u32 = 5;

/// How many identical copies of a file [`BoltDb::read`] wants, with a wait for any write
/// in flight between them (see `wait_for_write_in_flight`).
const COPIES: usize = 3;

/// A validated in-memory copy of a BoltDB file.
#[derive(Debug, Clone)]
pub struct BoltDb {
    data: Vec<u8>,
    path: PathBuf,
    page_size: usize,
    meta: Meta,
}

/// The committed transaction a copy shows: equal stamps mean no commit in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    page_size: usize,
    txid: u64,
    checksum: u64,
}

impl BoltDb {
    /// Reads the BoltDB at `host_path` under `root` without taking any lock.
    ///
    /// The meta is read again after the copy; when a writer committed in between, the read
    /// is retried up to [`MAX_READ_ATTEMPTS`] times, then fails with
    /// [`BoltError::Unstable`].
    ///
    /// A file that reads as corrupt while it is being changed (its identity, size or times
    /// differ from before the read) is read again too: a broken view of a file under a
    /// writer is the writer's doing, not corruption.
    pub fn read(root: &HostRoot, host_path: &Path) -> Result<BoltDb, BoltError> {
        for attempt in 1..=MAX_READ_ATTEMPTS {
            let before = root.stamp(host_path);
            match Self::read_once(root, host_path) {
                Err(e) if e.corruption().is_some() && root.stamp(host_path) != before => {
                    if attempt < MAX_READ_ATTEMPTS {
                        std::thread::sleep(Duration::from_millis(2 * u64::from(attempt)));
                    }
                }
                other => return other,
            }
        }
        Err(BoltError::Unstable {
            path: root.shown(host_path).file(),
            attempts: MAX_READ_ATTEMPTS,
        })
    }

    fn read_once(root: &HostRoot, host_path: &Path) -> Result<BoltDb, BoltError> {
        // One descriptor for every copy and the meta check: `pread` at offset 0 sees the
        // file's current bytes as a fresh `open` would (bbolt writes in place); a file
        // replaced by rename keeps its old, complete content under this descriptor, which
        // is then read consistently, and the next state check notices the new file.
        let file = root.open(host_path)?;
        let io_error = |source| crate::host::HostError {
            root: root.dir().to_path_buf(),
            path: host_path.to_path_buf(),
            source,
        };
        read_consistent(
            root.shown(host_path).file(),
            || {
                // Copies that differ mean the file was written during a copy, which the
                // meta check alone misses when a whole file is overwritten in place (a
                // restore, a copy tool) with one whose meta looks the same. A third copy
                // makes an A-B-A rewrite that pauses at the same byte twice harmless.
                // The later copies are only compared, a chunk at a time, never kept.
                // Equal copies can still be equally torn when a rewriter alternating two
                // files of the same shape is at the same page each time (CI saw one such
                // read in 445). A write moves the file's change time; on kernels with
                // fine-grained ("multigrain") timestamps, 6.13 and later on ext4, xfs, btrfs
                // and tmpfs, every write after a `stat` does, so an unchanged one says no
                // write came between the copies. Older kernels keep the copies' compare.
                wait_for_write_in_flight(&file);
                let before = change_time(&file);
                let first = pread_to_end(&file).map_err(io_error)?;
                let mut chunk = vec![0u8; COMPARE_CHUNK];
                for _ in 1..COPIES {
                    wait_for_write_in_flight(&file);
                    if !reads_the_same(&file, &first, &mut chunk).map_err(io_error)? {
                        return Ok(None);
                    }
                }
                if change_time(&file) != before {
                    return Ok(None);
                }
                Ok(Some(first))
            },
            |len| Ok(pread_prefix(&file, len).map_err(io_error)?),
        )
    }

    /// Checks the bytes of a whole BoltDB file; `path` is only used in messages.
    pub fn from_bytes(data: Vec<u8>, path: PathBuf) -> Result<BoltDb, BoltError> {
        let (page_size, meta) = match choose_meta(&data) {
            Ok(chosen) => chosen,
            Err(what) => {
                return Err(BoltError::Corrupt {
                    path,
                    bucket: None,
                    what,
                })
            }
        };
        let db = BoltDb {
            data,
            path,
            page_size,
            meta,
        };
        db.verify()?;
        Ok(db)
    }

    /// Walks every bucket from the root, checking each page once.
    fn verify(&self) -> Result<(), BoltError> {
        let mut visited = HashSet::new();
        self.root()
            .verify(&mut visited)
            .map_err(|(bucket, what)| bucket::bucket_error(self, bucket, what))
    }

    /// The whole content as a tree the [`writer`] can write again (to rewrite a file with
    /// some values changed, e.g. secrets removed from a captured state).
    pub fn to_tree(&self) -> Result<writer::BoltTree, BoltError> {
        bucket_tree(&self.root())
    }

    /// The root bucket, whose entries are the top-level buckets.
    pub fn root(&self) -> Bucket<'_> {
        Bucket::root_of(self, self.meta.root)
    }

    /// The file this copy was read from (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The page size of the file.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The meta record the reader chose (the valid one with the highest txid).
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// A checked data page.
    fn page(&self, pgid: u64) -> Result<page::Page<'_>, Corruption> {
        page::data_page(&self.data, self.page_size, &self.meta, pgid)
    }
}

fn bucket_tree(bucket: &Bucket<'_>) -> Result<writer::BoltTree, BoltError> {
    let mut tree = writer::BoltTree::new();
    for entry in bucket.entries()? {
        match entry {
            Entry::Value { key, value } => {
                tree.insert(key.to_vec(), writer::Node::Value(value.to_vec()));
            }
            Entry::Bucket { key, bucket } => {
                tree.insert(key.to_vec(), writer::Node::Bucket(bucket_tree(&bucket)?));
            }
        }
    }
    Ok(tree)
}

/// Copies the file with `read_all` until the meta read again with `read_prefix(len)` after
/// the copy shows the same committed transaction. `read_all` gives `None` when it saw the
/// file change during the copy: that attempt is retried too.
fn read_consistent(
    path: PathBuf,
    mut read_all: impl FnMut() -> Result<Option<Vec<u8>>, BoltError>,
    mut read_prefix: impl FnMut(usize) -> Result<Vec<u8>, BoltError>,
) -> Result<BoltDb, BoltError> {
    for attempt in 1..=MAX_READ_ATTEMPTS {
        let Some(data) = read_all()? else {
            if attempt < MAX_READ_ATTEMPTS {
                std::thread::sleep(Duration::from_millis(2 * u64::from(attempt)));
            }
            continue;
        };
        let before = stamp(&data);
        let parsed = BoltDb::from_bytes(data, path.clone());
        let check_len = match before {
            Some(s) => 2 * s.page_size,
            None => usize::MAX,
        };
        let after = stamp(&read_prefix(check_len)?);
        if before == after {
            return parsed;
        }
        if attempt < MAX_READ_ATTEMPTS {
            std::thread::sleep(Duration::from_millis(2 * u64::from(attempt)));
        }
    }
    Err(BoltError::Unstable {
        path,
        attempts: MAX_READ_ATTEMPTS,
    })
}

/// Returns once a `write` to the file that was under way has finished, so that a writer
/// paused in the middle of overwriting the file (the kernel throttles writers of dirty
/// pages for many milliseconds) shows as a difference between two copies instead of the
/// same torn bytes twice. `lseek(SEEK_DATA)` takes the inode lock a write holds on ext4,
/// xfs, btrfs and tmpfs; it takes no lock of its own that a writer could wait on for
/// longer than the call. Elsewhere it returns at once and only the meta check remains.
fn wait_for_write_in_flight(file: &File) {
    use std::os::unix::io::AsRawFd;
    // SAFETY: lseek on a descriptor the caller owns; any result is fine (the file position
    // is not used: every read is a `pread`).
    unsafe { libc::lseek(file.as_raw_fd(), 0, libc::SEEK_DATA) };
}

/// The file's change and modification times (`fstat`), or `None` when it cannot be
/// stat'ed.
fn change_time(file: &File) -> Option<(i64, i64, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let m = file.metadata().ok()?;
    Some((m.ctime(), m.ctime_nsec(), m.mtime(), m.mtime_nsec()))
}

/// The whole file from offset 0, sized by `fstat` and read with `pread` until it ends.
fn pread_to_end(file: &File) -> std::io::Result<Vec<u8>> {
    let hint = file
        .metadata()
        .map(|m| usize::try_from(m.len()).unwrap_or(0))
        .unwrap_or(0);
    // One byte more than the size, so that a file still of that size shows its end
    // without a second pass.
    let mut out = vec![0u8; hint.saturating_add(1).max(4096)];
    let mut len = 0usize;
    loop {
        if len == out.len() {
            out.resize(out.len().saturating_mul(2), 0);
        }
        let Some(spare) = out.get_mut(len..) else {
            break;
        };
        match file.read_at(spare, len as u64) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    out.truncate(len);
    Ok(out)
}

/// The first `len` bytes of the file (all of it when shorter, or when `len` is
/// `usize::MAX`).
fn pread_prefix(file: &File, len: usize) -> std::io::Result<Vec<u8>> {
    if len == usize::MAX {
        return pread_to_end(file);
    }
    let mut out = vec![0u8; len];
    let mut got = 0usize;
    while let Some(spare) = out.get_mut(got..).filter(|s| !s.is_empty()) {
        match file.read_at(spare, got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    out.truncate(got);
    Ok(out)
}

/// How much of a later copy is read at a time to compare it with the first.
const COMPARE_CHUNK: usize = 64 * 1024;

/// True when the file's bytes now are exactly `first`: read again a chunk at a time into
/// `chunk` and compared, stopping at the first difference.
fn reads_the_same(file: &File, first: &[u8], chunk: &mut [u8]) -> std::io::Result<bool> {
    let mut offset = 0usize;
    loop {
        let n = match file.read_at(chunk, offset as u64) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(offset == first.len());
        }
        let (Some(now), Some(then)) = (chunk.get(..n), first.get(offset..offset.saturating_add(n)))
        else {
            // Longer than the first copy.
            return Ok(false);
        };
        if now != then {
            return Ok(false);
        }
        offset += n;
    }
}

fn stamp(data: &[u8]) -> Option<Stamp> {
    choose_meta(data).ok().map(|(page_size, m)| Stamp {
        page_size,
        txid: m.txid,
        checksum: m.checksum,
    })
}

/// The meta record in the page starting at `offset`, checked.
fn meta_at(data: &[u8], offset: usize) -> Result<Meta, MetaProblem> {
    let Some(page) = data.get(offset..offset.saturating_add(PAGE_HEADER_SIZE + META_SIZE)) else {
        return Err(MetaProblem::Missing);
    };
    let (_, header) = format::page_header(page).map_err(|_| MetaProblem::Missing)?;
    let body = &page[PAGE_HEADER_SIZE..];
    let (_, meta) = format::meta(body).map_err(|_| MetaProblem::Missing)?;
    if meta.magic != MAGIC {
        return Err(MetaProblem::BadMagic { found: meta.magic });
    }
    if meta.version != format::VERSION {
        return Err(MetaProblem::BadVersion {
            found: meta.version,
        });
    }
    let computed = format::fnv1a64(&body[..format::META_CHECKSUM_COVERS]);
    if computed != meta.checksum {
        return Err(MetaProblem::BadChecksum {
            stored: meta.checksum,
            computed,
        });
    }
    // bbolt itself does not look at a meta page's flags; a page with a valid checksummed
    // meta record and the wrong flag is still reported, since only a broken file has it.
    if header.flags != FLAG_META {
        return Err(MetaProblem::NotAMetaPage {
            flags: header.flags,
        });
    }
    if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&meta.page_size) {
        return Err(MetaProblem::BadPageSize {
            found: meta.page_size,
        });
    }
    Ok(meta)
}

/// The page size field of meta 0, valid or not, when it is in the plausible range.
fn claimed_page_size(data: &[u8]) -> Option<usize> {
    let body = data.get(PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + META_SIZE)?;
    let (_, m) = format::meta(body).ok()?;
    (MIN_PAGE_SIZE..=MAX_PAGE_SIZE)
        .contains(&m.page_size)
        .then_some(m.page_size as usize)
}

/// The page size and the meta to use, as bbolt chooses them: the page size from meta 0, or
/// when meta 0 is broken from a valid meta 1 found by probing 1 KiB << i; then the valid
/// meta with the higher txid (meta 0 on a tie).
fn choose_meta(data: &[u8]) -> Result<(usize, Meta), Corruption> {
    let meta0 = meta_at(data, 0);
    let page_size = match &meta0 {
        Ok(m) => Some(m.page_size as usize),
        Err(_) => (0..15)
            .map(|i| 1024usize << i)
            .find(|&offset| meta_at(data, offset).is_ok_and(|m| m.page_size as usize == offset)),
    };
    let meta1 = match page_size {
        Some(size) => meta_at(data, size),
        // Nothing found by probing: say what is wrong with meta 1 where meta 0's (broken)
        // record puts it, when its page size is plausible at all.
        None => match claimed_page_size(data) {
            Some(size) => meta_at(data, size),
            None => Err(MetaProblem::Missing),
        },
    };
    let chosen = match (meta0, meta1) {
        (Ok(a), Ok(b)) => {
            if b.txid > a.txid {
                b
            } else {
                a
            }
        }
        (Ok(a), Err(_)) => a,
        (Err(_), Ok(b)) => b,
        (Err(meta0), Err(meta1)) => return Err(Corruption::NoValidMeta { meta0, meta1 }),
    };
    let page_size = chosen.page_size as usize;
    if chosen.root < 2 || chosen.root >= chosen.pgid {
        return Err(Corruption::BadMeta {
            detail: format!(
                "root page {} is outside the data pages 2..{}",
                chosen.root, chosen.pgid
            ),
        });
    }
    Ok((page_size, chosen))
}

#[cfg(test)]
mod tests;
