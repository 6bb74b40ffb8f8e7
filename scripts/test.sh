#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit/golden/property tests, live cgroup, podman
# and collectd tests. Run as root on Debian 12 (CI does); it installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# the libraries and the command as users build them: without the tests' `internals` feature,
# where every pub item of the core must be reachable from its root (unreachable_pub)
cargo clippy -p libpod-stats -p libpod-stats-testing -p libpod-stats-cli -p libpodstats-plugin \
  --lib --bins -- -D warnings
# benches are compiled by clippy above and run by `cargo bench`, not here
# One integration-test binary per crate (plus the two allocation-counting ones), its tests in
# parallel threads. The tests that measure cpu or time against real podman, collectd or VMs
# run afterwards, one at a time, so no neighbour's load skews their figures: e2e_*, podman_*,
# collectd_*, fault_collectd, live_* and vm_podman5 (plugin/tests/integration/vm_podman5.rs: a
# trixie and a sid guest under qemu, about 15 minutes with the guest trees cached, 25
# without; LPS_SKIP_VM=1 skips them outside CI, never under CI=true).
timed=(e2e_ podman_ collectd_ fault_collectd live_ vm_podman5)
cargo test --workspace --lib --bins --tests --examples -- "${timed[@]/#/--skip=}"
cargo test --workspace --lib --bins --tests -- --test-threads=1 "${timed[@]}"
cargo test --workspace --doc
# the examples: the live host (prints what runs, or says nothing runs), a replay of bundled
# captures, and the insta example's program (its test ran with --tests above)
cargo build --workspace --examples
cargo run -q --example live_host
cargo run -q --example replay_capture
cargo run -q --example replay_capture -- fixtures/cgroupv1/podman-pod
cargo run -q -p libpod-stats-testing --example insta_replay >/dev/null
# every public item is documented (deny(missing_docs)) and the docs build without a warning
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace
# the three published crates as crates.io would take them: one publish dry run that builds
# each from its package, each package under 10 MB and without fixtures
scripts/package-check.sh
# downstream/, a crate outside the workspace, tested against those packages unpacked
scripts/downstream.sh
scripts/fuzz-smoke.sh
