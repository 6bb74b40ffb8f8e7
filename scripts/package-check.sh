#!/usr/bin/env bash
# The three published crates as crates.io would take them. One multi-package
# `cargo publish --dry-run` packages them and builds each from its package alone (the others
# it needs come from their packages too, through cargo's temporary local registry); nothing
# is uploaded. Then the packages themselves (`cargo package`, the same contents, written to
# <target>/package/<name>-<version>.crate) are checked: each under 10 MB (10,000,000 bytes;
# crates.io takes at most 10 MiB) and none holding a path under a `fixtures/` directory. Prints
# each package's file count and size. Needs the crates.io index (network).
#
# cargo refuses to package files with uncommitted changes; CI runs on a clean clone. To try
# a work in progress outside CI: LPS_ALLOW_DIRTY=1 scripts/package-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libpod-stats libpod-stats-testing libpod-stats-cli)
max_bytes=10000000

dirty=()
if [ "${LPS_ALLOW_DIRTY:-}" = 1 ]; then
    if [ "${CI:-}" = true ]; then
        echo "package-check: LPS_ALLOW_DIRTY is not for CI (it packages a clean clone)" >&2
        exit 1
    fi
    dirty=(--allow-dirty)
fi

select=()
for p in "${packages[@]}"; do select+=(-p "$p"); done

cargo publish --dry-run "${dirty[@]}" "${select[@]}"
cargo package --no-verify "${dirty[@]}" "${select[@]}"

target=${CARGO_TARGET_DIR:-target}
failed=0
printf '%-22s %7s %12s %12s\n' package files '.crate' unpacked
for p in "${packages[@]}"; do
    id=$(cargo pkgid -p "$p")
    version=${id##*[@#]}
    crate=$target/package/$p-$version.crate
    if [ ! -f "$crate" ]; then
        echo "package-check: $crate: not written by cargo package" >&2
        failed=1
        continue
    fi
    bytes=$(stat -c %s "$crate")
    listing=$(tar -tzf "$crate")
    files=$(printf '%s\n' "$listing" | wc -l)
    unpacked=$(tar -xzOf "$crate" | wc -c)
    printf '%-22s %7d %12d %12d\n' "$p" "$files" "$bytes" "$unpacked"
    if [ "$bytes" -ge "$max_bytes" ]; then
        echo "package-check: $crate: $bytes bytes, the limit is under $max_bytes" >&2
        failed=1
    fi
    # <name>-<version>/ then any path with a directory named fixtures in it
    if fixtures=$(printf '%s\n' "$listing" | grep -E '^[^/]+/(.*/)?fixtures/'); then
        echo "package-check: $crate holds fixtures:" >&2
        printf '%s\n' "$fixtures" | head -n 20 >&2
        failed=1
    fi
done
exit "$failed"
