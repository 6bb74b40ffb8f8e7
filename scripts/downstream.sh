#!/usr/bin/env bash
# downstream/ built and tested the way a crates.io user builds it: against the packages of
# the core and the testing crate as `cargo package` makes them, unpacked under
# target/packaged/<name>/ (the paths of downstream/Cargo.toml's [patch.crates-io]), with
# downstream/Cargo.lock as committed (--locked). A package is unpacked again only when its
# .crate changed, and then with fresh file times, so cargo rebuilds exactly what changed.
# The downstream crate builds in the workspace's target dir: downstream/Cargo.lock pins the
# versions of the workspace's Cargo.lock, so its registry dependencies are the ones the
# verification step of scripts/package-check.sh's dry run built there (same versions,
# features and profile) and compile once per run, not twice.
#
# When a change to the core or the testing crate adds or bumps a dependency, the committed
# lock no longer fits and --locked fails. After this script has unpacked the new packages,
# make it again from the workspace's lock (cargo drops what downstream does not use):
#   cp Cargo.lock downstream/ && (cd downstream && cargo tree >/dev/null)
#
# As scripts/package-check.sh: LPS_ALLOW_DIRTY=1 packages uncommitted changes (not in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

packages=(libpod-stats libpod-stats-testing)

dirty=()
if [ "${LPS_ALLOW_DIRTY:-}" = 1 ]; then
    if [ "${CI:-}" = true ]; then
        echo "downstream: LPS_ALLOW_DIRTY is not for CI (it packages a clean clone)" >&2
        exit 1
    fi
    dirty=(--allow-dirty)
fi

select=()
for p in "${packages[@]}"; do select+=(-p "$p"); done
cargo package --no-verify "${dirty[@]}" "${select[@]}"

target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$top/$target ;; esac
packaged=$top/target/packaged
mkdir -p "$packaged"
for p in "${packages[@]}"; do
    id=$(cargo pkgid -p "$p")
    crate=$target/package/$p-${id##*[@#]}.crate
    sum=$(sha256sum <"$crate")
    if [ -d "$packaged/$p" ] && [ "$(cat "$packaged/$p.sha256" 2>/dev/null)" = "$sum" ]; then
        continue
    fi
    rm -rf "$packaged/$p" "$packaged/$p.sha256"
    mkdir "$packaged/$p"
    # cargo writes every file with one fixed time; --touch gives them now instead, or cargo
    # would take a changed package for the one it already built
    tar -xzf "$crate" -C "$packaged/$p" --strip-components=1 --touch
    printf '%s\n' "$sum" >"$packaged/$p.sha256"
    echo "downstream: unpacked $crate into $packaged/$p"
done

cd downstream
export CARGO_TARGET_DIR=$target
cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
