//! Handing one value list to collectd's `plugin_dispatch_values`, built on the stack.
//!
//! Why not the `collectd-plugin` crate's `ValueListBuilder::submit`: it attaches a new, empty
//! `meta_data_t` to every value list and never frees it. collectd copies what it is given
//! (the caller keeps ownership of the meta data), so each dispatch leaked about 48 bytes:
//! at 1000 containers and 11 value lists each, 0.5 MiB of collectd's memory per second at
//! `Interval 1`, forever (measured with heaptrack; see BENCHMARKS.md). This module sends no
//! meta data at all (a null pointer, which collectd accepts and does not copy) and needs no
//! heap allocation: the text fields are fixed arrays in `value_list_t` itself.

use std::os::raw::c_char;

use collectd_plugin::bindings::{plugin_dispatch_values, value_list_t, value_t, ARR_LENGTH};
use collectd_plugin::Value;

use crate::reader::Dispatch;

/// More data sources than any type of ours has (`disk_octets` and `if_octets` have two).
const MAX_VALUES: usize = 8;

/// Why a value list could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    /// A text field does not fit collectd's fixed-size field (127 bytes and a NUL).
    #[error("{field} {text:?} is longer than {max} bytes", max = ARR_LENGTH - 1)]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its text.
        text: String,
    },
    /// A text field holds a NUL byte, which would cut it short in C.
    #[error("{field} {text:?} contains a NUL byte")]
    Nul {
        /// Which field.
        field: &'static str,
        /// Its text.
        text: String,
    },
    /// More values than a value list is built for here.
    #[error("{count} values for type {type_}, at most {MAX_VALUES}")]
    TooManyValues {
        /// The type.
        type_: &'static str,
        /// How many values came.
        count: usize,
    },
    /// collectd refused the value list (its return code).
    #[error("plugin_dispatch_values returned {0}")]
    Refused(i32),
}

/// `text` as a NUL-terminated C field of collectd's size.
pub fn text_field(field: &'static str, text: &str) -> Result<[c_char; ARR_LENGTH], DispatchError> {
    if text.len() >= ARR_LENGTH {
        return Err(DispatchError::TooLong {
            field,
            text: text.to_owned(),
        });
    }
    if text.as_bytes().contains(&0) {
        return Err(DispatchError::Nul {
            field,
            text: text.to_owned(),
        });
    }
    let mut out = [0 as c_char; ARR_LENGTH];
    for (slot, &byte) in out.iter_mut().zip(text.as_bytes()) {
        *slot = byte as c_char;
    }
    Ok(out)
}

/// A value list for `d`, pointing at `values` (which must outlive the dispatch). Time and
/// host are left empty, so collectd uses its current time and its `Hostname`, and the
/// interval is the plugin's read interval.
pub fn value_list(
    d: &Dispatch<'_>,
    values: &mut [value_t; MAX_VALUES],
) -> Result<value_list_t, DispatchError> {
    let count = d.list.values.len();
    if count > MAX_VALUES {
        return Err(DispatchError::TooManyValues {
            type_: d.list.type_,
            count,
        });
    }
    for (slot, &v) in values.iter_mut().zip(d.list.values) {
        *slot = value_t::from(v);
    }
    Ok(value_list_t {
        values: values.as_mut_ptr(),
        values_len: count,
        time: 0,
        interval: 0,
        host: [0; ARR_LENGTH],
        plugin: text_field("plugin", d.plugin)?,
        plugin_instance: text_field("plugin instance", d.plugin_instance)?,
        type_: text_field("type", d.list.type_)?,
        type_instance: text_field("type instance", d.list.type_instance.unwrap_or(""))?,
        meta: std::ptr::null_mut(),
    })
}

/// Dispatches one value list to collectd.
pub fn dispatch(d: &Dispatch<'_>) -> Result<(), DispatchError> {
    let mut values = [value_t::from(Value::Gauge(0.0)); MAX_VALUES];
    let list = value_list(d, &mut values)?;
    // SAFETY: `list` is a fully initialised value list whose `values` point at `values`,
    // alive for the call; collectd copies what it keeps and does not retain the pointers.
    match unsafe { plugin_dispatch_values(&list) } {
        0 => Ok(()),
        code => Err(DispatchError::Refused(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::ValueList;

    fn text(field: &[c_char; ARR_LENGTH]) -> String {
        let bytes: Vec<u8> = field
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn builds_every_field_and_no_meta_data() {
        let values = [Value::Derive(12), Value::Derive(34)];
        let d = Dispatch {
            plugin: "libpodstats",
            plugin_instance: "web",
            list: ValueList {
                type_: "disk_octets",
                type_instance: None,
                values: &values,
            },
        };
        let mut storage = [value_t::from(Value::Gauge(0.0)); MAX_VALUES];
        let vl = value_list(&d, &mut storage).unwrap();
        assert_eq!(text(&vl.plugin), "libpodstats");
        assert_eq!(text(&vl.plugin_instance), "web");
        assert_eq!(text(&vl.type_), "disk_octets");
        assert_eq!(text(&vl.type_instance), "");
        assert_eq!(text(&vl.host), "");
        assert_eq!(vl.values_len, 2);
        assert_eq!((vl.time, vl.interval), (0, 0));
        assert!(vl.meta.is_null());
        // SAFETY: the first two slots were written as derives just above.
        let (a, b) = unsafe { (storage[0].derive, storage[1].derive) };
        assert_eq!((a, b), (12, 34));
    }

    #[test]
    fn refuses_text_collectd_would_cut() {
        assert!(text_field("plugin instance", &"x".repeat(127)).is_ok());
        assert!(matches!(
            text_field("plugin instance", &"x".repeat(128)),
            Err(DispatchError::TooLong { .. })
        ));
        assert!(matches!(
            text_field("type instance", "a\0b"),
            Err(DispatchError::Nul { .. })
        ));
    }

    #[test]
    fn refuses_more_values_than_it_holds() {
        let values = [Value::Gauge(1.0); MAX_VALUES + 1];
        let d = Dispatch {
            plugin: "libpodstats",
            plugin_instance: "web",
            list: ValueList {
                type_: "pod_cpu",
                type_instance: None,
                values: &values,
            },
        };
        let mut storage = [value_t::from(Value::Gauge(0.0)); MAX_VALUES];
        assert!(matches!(
            value_list(&d, &mut storage),
            Err(DispatchError::TooManyValues { count: 9, .. })
        ));
    }
}
