//! Keeping the whole `memory.stat` map current without reallocating its keys on every read.

use std::collections::BTreeMap;

use super::error::CgroupError;
use super::files::CgroupFile;
use super::reader::CgroupFileSource;
use crate::parse::flat_keyed;

/// Replaces `map` with the pairs of `file` (v1 or v2 `memory.stat`). Values of keys already
/// in the map are updated in place; the map is rebuilt only when its key set changed. An
/// absent file leaves the map empty.
pub(crate) fn fill<S: CgroupFileSource>(
    src: &mut S,
    file: CgroupFile,
    map: &mut BTreeMap<String, u64>,
) -> Result<(), CgroupError> {
    let found = src.parse_file(file, |data| {
        let mut lines = 0usize;
        let mut missing = false;
        flat_keyed::for_each(data, |k, v| {
            lines += 1;
            match std::str::from_utf8(k).ok().and_then(|k| map.get_mut(k)) {
                Some(slot) => *slot = v,
                None => missing = true,
            }
        })?;
        if missing || lines != map.len() {
            map.clear();
            flat_keyed::for_each(data, |k, v| {
                map.insert(String::from_utf8_lossy(k).into_owned(), v);
            })?;
        }
        Ok(())
    })?;
    if found.is_none() {
        map.clear();
    }
    Ok(())
}
