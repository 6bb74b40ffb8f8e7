#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit/golden/property tests, live cgroup, podman
# and collectd tests. Run as root on Debian 12 (CI does); it installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# benches are compiled by clippy above and run by `cargo bench`, not here
# includes the podman 5 VM tests (plugin/tests/vm_podman5.rs: a trixie and a sid guest under
# qemu, about 15 minutes with the guest trees cached, 25 without); LPS_SKIP_VM=1 skips them
# outside CI, never under CI=true
cargo test --workspace --lib --bins --tests
cargo test --workspace --doc
# every public item is documented (deny(missing_docs)) and the docs build without a warning
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace
scripts/fuzz-smoke.sh
