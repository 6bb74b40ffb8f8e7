//! A BoltDB rewritten while it is read: a thread writes two distinct podman states into
//! `bolt_state.db` in a loop, by atomic rename and by overwriting the file in place, while
//! another reads it. Every read must give exactly one of the two states, or a retryable
//! error; never a state that mixes both, never a panic.

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libpod_stats::internals::libpod::bolt::writer::Writer;
use libpod_stats::internals::libpod::bolt_state::{read_bolt_state, write_bolt_state};
use libpod_stats::{HostRoot, RawContainer, RawState, RuntimeConfig, StateError};

const DB: &str = "/var/lib/containers/storage/libpod/bolt_state.db";

/// A state of `n` containers whose names and JSON carry `tag`; with equal `n` two tags give
/// files of the same shape (same pages, same meta), the hardest case to tell apart.
fn state(tag: &str, n: usize, pad: usize) -> RawState {
    RawState {
        containers: (0..n)
            .map(|i| {
                let id = format!("{:064x}", i + 1);
                let name = format!("{tag}-{i:04}");
                RawContainer {
                    config_json: format!(
                        r#"{{"id":"{id}","name":"{name}","labels":{{"tag":"{tag}{}"}}}}"#,
                        "x".repeat(pad)
                    )
                    .into_bytes(),
                    state_json: format!(r#"{{"state":3,"pid":{},"tag":"{tag}"}}"#, 1000 + i)
                        .into_bytes(),
                    name: Some(name),
                    id,
                    pod_id: None,
                }
            })
            .collect(),
        pods: Vec::new(),
        runtime: RuntimeConfig {
            graph_root: Some("/var/lib/containers/storage".into()),
            static_dir: Some(format!("/var/lib/containers/storage/libpod-{tag}").into()),
            ..Default::default()
        },
    }
}

#[derive(Clone, Copy, Debug)]
enum Rewrite {
    /// Write a temp file beside it and rename it over the database.
    AtomicRename,
    /// Overwrite the database's bytes in place with one `pwrite`, then set its length.
    InPlace,
}

struct Outcome {
    old: usize,
    new: usize,
    retryable: usize,
    other_errors: Vec<String>,
    mixed: usize,
}

fn run(rewrite: Rewrite, a: RawState, b: RawState, for_how_long: Duration) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let file: PathBuf = dir.path().join(DB.trim_start_matches('/'));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let writer = Writer::new();
    let bytes = [
        write_bolt_state(&a, &writer).unwrap(),
        write_bolt_state(&b, &writer).unwrap(),
    ];
    std::fs::write(&file, &bytes[0]).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let rewriter = {
        let stop = stop.clone();
        let file = file.clone();
        std::thread::spawn(move || {
            let tmp = file.with_extension("tmp");
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let data = &bytes[i % 2];
                match rewrite {
                    Rewrite::AtomicRename => {
                        let mut f = std::fs::File::create(&tmp).unwrap();
                        f.write_all(data).unwrap();
                        drop(f);
                        std::fs::rename(&tmp, &file).unwrap();
                    }
                    Rewrite::InPlace => {
                        let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
                        f.write_all_at(data, 0).unwrap();
                        f.set_len(data.len() as u64).unwrap();
                    }
                }
            }
            i
        })
    };

    let root = HostRoot::new(dir.path()).unwrap();
    let mut out = Outcome {
        old: 0,
        new: 0,
        retryable: 0,
        other_errors: Vec::new(),
        mixed: 0,
    };
    let start = Instant::now();
    while start.elapsed() < for_how_long || out.old + out.new < 20 {
        match read_bolt_state(&root, Path::new(DB)) {
            Ok(s) if s == a => out.old += 1,
            Ok(s) if s == b => out.new += 1,
            Ok(_) => out.mixed += 1,
            Err(e) if is_retryable(&e) => out.retryable += 1,
            Err(e) => out.other_errors.push(e.to_string()),
        }
        if start.elapsed() > for_how_long * 10 {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let rewrites = rewriter.join().unwrap();
    eprintln!(
        "{rewrite:?}: {rewrites} rewrites; reads: {} old, {} new, {} retryable, {} other errors, {} mixed",
        out.old,
        out.new,
        out.retryable,
        out.other_errors.len(),
        out.mixed
    );
    out
}

fn is_retryable(e: &StateError) -> bool {
    match e {
        StateError::Bolt(b) => b.is_retryable(),
        _ => false,
    }
}

fn check(rewrite: Rewrite, a: RawState, b: RawState) {
    let out = run(rewrite, a, b, Duration::from_secs(3));
    assert_eq!(out.mixed, 0, "{rewrite:?}: reads mixed the two states");
    assert!(
        out.other_errors.is_empty(),
        "{rewrite:?}: non-retryable errors while the file was rewritten: {:#?}",
        &out.other_errors[..out.other_errors.len().min(5)]
    );
    assert!(out.old + out.new > 0, "{rewrite:?}: no read succeeded");
}

#[test]
fn atomic_rename_of_a_different_shape() {
    check(
        Rewrite::AtomicRename,
        state("old", 40, 10),
        state("new", 90, 300),
    );
}

#[test]
fn atomic_rename_of_the_same_shape() {
    check(
        Rewrite::AtomicRename,
        state("aaa", 60, 100),
        state("bbb", 60, 100),
    );
}

#[test]
fn in_place_overwrite_of_a_different_shape() {
    check(
        Rewrite::InPlace,
        state("old", 40, 10),
        state("new", 90, 300),
    );
}

#[test]
fn in_place_overwrite_of_the_same_shape() {
    check(
        Rewrite::InPlace,
        state("aaa", 60, 100),
        state("bbb", 60, 100),
    );
}
