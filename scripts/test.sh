#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit/golden/property tests, live cgroup, podman
# and collectd tests. Run as root on Debian 12 (CI does); it installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# benches are compiled by clippy above and run by `cargo bench`, not here
cargo test --workspace --lib --bins --tests
cargo test --workspace --doc
# every public item is documented (deny(missing_docs)) and the docs build without a warning
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace
scripts/fuzz-smoke.sh
