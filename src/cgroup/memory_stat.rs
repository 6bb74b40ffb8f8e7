//! Keeping the whole `memory.stat` map current without reallocating its keys on every read.

use std::collections::BTreeMap;

use super::error::CgroupError;
use super::files::CgroupFile;
use super::reader::CgroupFileSource;
use crate::parse::flat_keyed;

/// Which keys of `memory.stat` a read keeps in [`MemoryStats::stat`](super::stats::MemoryStats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MemoryStatKeys {
    /// Every key the kernel wrote (what a one-off read or a capture wants).
    #[default]
    All,
    /// Only these keys, where present: a collector that needs two of the forty keys neither
    /// stores nor looks up the others. The whole file is still parsed, so a malformed line is
    /// still an error.
    Only(&'static [&'static str]),
}

/// The keys a collector's samples need: the working set's (`inactive_file` on v2,
/// `total_inactive_file` on v1), anonymous memory's (`anon` on v2, `total_rss` on v1) and
/// v1's swap (`total_swap`).
pub const SAMPLE_KEYS: MemoryStatKeys = MemoryStatKeys::Only(&[
    "total_inactive_file",
    "inactive_file",
    "anon",
    "total_rss",
    "total_swap",
]);

/// Replaces `map` with the pairs of `file` (v1 or v2 `memory.stat`) that the source's
/// [`MemoryStatKeys`] keep. Values of keys already in the map are updated in place; the map
/// is rebuilt only when its key set changed. An absent file leaves the map empty.
pub(crate) fn fill<S: CgroupFileSource>(
    src: &mut S,
    file: CgroupFile,
    map: &mut BTreeMap<String, u64>,
) -> Result<(), CgroupError> {
    let keys = src.memory_stat_keys();
    let found = src.parse_file(file, |data| {
        let mut kept = 0usize;
        let mut missing = false;
        flat_keyed::for_each(data, |k, v| {
            if !keeps(keys, k) {
                return;
            }
            kept += 1;
            match std::str::from_utf8(k).ok().and_then(|k| map.get_mut(k)) {
                Some(slot) => *slot = v,
                None => missing = true,
            }
        })?;
        if missing || kept != map.len() {
            map.clear();
            flat_keyed::for_each(data, |k, v| {
                if keeps(keys, k) {
                    map.insert(String::from_utf8_lossy(k).into_owned(), v);
                }
            })?;
        }
        Ok(())
    })?;
    if found.is_none() {
        map.clear();
    }
    Ok(())
}

/// True when `keys` keep the key `k`.
fn keeps(keys: MemoryStatKeys, k: &[u8]) -> bool {
    match keys {
        MemoryStatKeys::All => true,
        MemoryStatKeys::Only(wanted) => wanted.iter().any(|w| w.as_bytes() == k),
    }
}
