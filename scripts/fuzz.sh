#!/usr/bin/env bash
# Runs every fuzz target in the tree (every func Fuzz* in a _test.go file, so
# a new target joins without editing a list) for FUZZTIME each, and after
# each one keeps the new inputs the fuzzer found interesting: they are copied
# from Go's fuzz cache into the package's testdata/fuzz/<Target>/, where every
# `go test` replays them. Bounded so the repository does not balloon: at most
# FUZZ_KEEP entries per target (default 50, counting those already there),
# each at most 64 KiB, smallest first (cheapest to replay and to read).
# Usage: FUZZTIME=30s scripts/fuzz.sh [package-dir ...]
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
fuzztime=${FUZZTIME:-30s}
keep_max=${FUZZ_KEEP:-50}
max_bytes=65536
cache=$($GO env GOCACHE)/fuzz

# keep PKG TARGET: copy new corpus entries from the fuzz cache into testdata.
keep() {
  local pkg=$1 target=$2 src dst have=0 kept=0 f name
  src="$cache/$($GO list "./$pkg")/$target"
  dst="$pkg/testdata/fuzz/$target"
  [ -d "$src" ] || return 0
  mkdir -p "$dst"
  have=$(find "$dst" -type f | wc -l)
  local added=()
  while read -r f; do
    [ "$have" -lt "$keep_max" ] || break
    name=$(basename "$f")
    [ -e "$dst/$name" ] && continue
    cp "$f" "$dst/$name"
    added+=("$dst/$name")
    have=$((have + 1)) kept=$((kept + 1))
  done < <(find "$src" -type f -size -$((max_bytes + 1))c -printf '%s %p\n' | sort -n -k1,1 -k2 | cut -d' ' -f2-)
  # The cache may hold entries from an older version of the target (other
  # argument types); replay what was added so a bad seed never lands.
  if [ "$kept" -gt 0 ] && ! $GO test "./$pkg" -run "^$target\$" -count=1 >/dev/null; then
    rm -f "${added[@]}"
    echo "fuzz: $target in $pkg fails on the corpus entries from the cache; removed them (run: go test ./$pkg -run '^$target\$')" >&2
    return 1
  fi
  echo "fuzz: kept $kept new corpus entries in $dst ($have in all)"
}

pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(cmd internal)
grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' "${pkgs[@]}" | sort -u |
while IFS=: read -r file fn; do
  pkg=$(dirname "$file") target=${fn#func }
  echo "fuzz: $target in ./$pkg for $fuzztime"
  $GO test "./$pkg" -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s
  keep "$pkg" "$target"
done
