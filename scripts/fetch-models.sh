#!/usr/bin/env bash
# Provisions the model files listed in models/manifest.tsv into models/data/.
# Each file comes from a local mirror when one exists (FACEKIT_MODEL_MIRROR,
# else ../shared/models next to the repo), otherwise from its public source,
# and is installed only if its sha256 matches the manifest, or if it is the
# official file named by the manifest's fifth column (see below). Idempotent:
# files already present and verified are left alone.
#
# The manifest's sha256 is the mirror's copy, which for some dlib models is a
# rebuild and differs from the public file. The fifth column lists the
# official files' git blob ids (sha1 of "blob <size>\0" + content, what
# `git hash-object` prints), comma-separated:
#   git-blob:ID      the installed file itself (e.g. the .dat as stored in
#                    the face_recognition_models repository);
#   git-blob-bz2:ID  the .bz2 as downloaded, before decompression (as stored
#                    in dlib-models).
# Each installed file says which of these verified it, and a file installed
# by blob id gets a "<file>.verified" note (its sha256 and the id) so that
# later runs accept it without downloading it again.
#
# Usage: scripts/fetch-models.sh [--check]   (--check only reports status)
# FACEKIT_MODEL_MANIFEST overrides models/manifest.tsv (tests use it).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
manifest="${FACEKIT_MODEL_MANIFEST:-$root/models/manifest.tsv}"
dest="${FACEKIT_MODEL_DIR:-$root/models/data}"
mirror="${FACEKIT_MODEL_MIRROR:-}"
if [[ -z "$mirror" && -d "$root/../shared/models" ]]; then mirror="$root/../shared/models"; fi
check_only=0
[[ "${1:-}" == "--check" ]] && check_only=1

sha() { sha256sum "$1" | cut -d' ' -f1; }

# gitblob prints the git blob id of a file: sha1 over "blob <size>\0" and
# the content. Computed here rather than by `git hash-object` so that a
# machine without git can verify too.
gitblob() {
  local size
  size=$(wc -c < "$1" | tr -d ' ')
  { printf 'blob %s\0' "$size"; cat "$1"; } | sha1sum | cut -d' ' -f1
}

# alt_ids KIND ALTS prints the ids of one kind (git-blob, git-blob-bz2)
# listed in a manifest's fifth column.
alt_ids() {
  local kind=$1 entry
  local -a entries
  IFS=',' read -r -a entries <<< "$2"
  for entry in "${entries[@]}"; do
    [[ "${entry%%:*}" == "$kind" ]] && echo "${entry#*:}"
  done
  return 0
}

# verified FILE WANT ALTS prints how an installed file is verified ("sha256
# <hash>", "git blob <id>", or what its .verified note records) and fails
# when none holds.
verified() {
  local file=$1 want=$2 alts=$3 got id note_sha note_how
  got=$(sha "$file")
  if [[ "$got" == "$want" ]]; then echo "manifest sha256"; return 0; fi
  if [[ -n "$alts" ]]; then
    local blob
    blob=$(gitblob "$file")
    for id in $(alt_ids git-blob "$alts"); do
      [[ "$blob" == "$id" ]] && { echo "git blob $id (official file)"; return 0; }
    done
    if [[ -f "$file.verified" ]]; then
      read -r note_sha note_how < "$file.verified" || true
      for id in $(alt_ids git-blob-bz2 "$alts"); do
        if [[ "$note_sha" == "$got" && "$note_how" == "git-blob-bz2:$id" ]]; then
          echo "git blob $id of the official .bz2 (recorded in $(basename "$file").verified)"; return 0
        fi
      done
    fi
  fi
  return 1
}

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

fetch() { # url out [bz2-copy]: a .bz2 is also kept, as downloaded, in bz2-copy
  local url=$1 out=$2 keep=${3:-}
  if [[ "$url" == npm:* ]]; then
    from_npm "$url" || return 1
    cp "$npm_file" "$out"; return
  fi
  if [[ "$url" == *.bz2 ]]; then
    curl -fsSL --retry 3 --max-time 600 "$url" -o "$keep" && bzip2 -dc "$keep" > "$out"
  else
    curl -fsSL --retry 3 --max-time 600 "$url" -o "$out"
  fi
}

mkdir -p "$dest"
status=0
while IFS=$'\t' read -r path want url license alts; do
  [[ -z "$path" || "$path" == \#* ]] && continue
  alts=${alts:-}
  target="$dest/$path"
  if [[ -f "$target" ]] && how=$(verified "$target" "$want" "$alts"); then
    echo "ok       $path ($how)"
    continue
  fi
  if (( check_only )); then
    echo "missing  $path  (run: make models)"; status=1; continue
  fi
  mkdir -p "$(dirname "$target")"
  tmp="$target.part"
  bz="$target.part.bz2"
  rm -f "$tmp" "$bz" "$target.verified"
  if [[ -n "$mirror" && -f "$mirror/$path" ]]; then
    listed=$(mirror_sum "$path" || true)
    if [[ -n "$listed" && "$listed" != "$want" ]]; then
      echo "refused  $path: mirror SHA256SUMS says $listed, manifest says $want" >&2; status=1; continue
    fi
    cp "$mirror/$path" "$tmp"
    origin="mirror $mirror"
  else
    if ! fetch "$url" "$tmp" "$bz"; then
      echo "failed   $path: could not download $url" >&2; rm -f "$tmp" "$bz"; status=1; continue
    fi
    origin="$url"
  fi
  note=""
  if ! how=$(verified "$tmp" "$want" "$alts"); then
    how=""
    if [[ -f "$bz" ]]; then
      bzblob=$(gitblob "$bz")
      for id in $(alt_ids git-blob-bz2 "$alts"); do
        if [[ "$bzblob" == "$id" ]]; then
          how="git blob $id of the official .bz2"; note="$(sha "$tmp") git-blob-bz2:$id"
        fi
      done
    fi
  fi
  rm -f "$bz"
  if [[ -z "$how" ]]; then
    got=$(sha "$tmp")
    echo "refused  $path from $origin: sha256 $got, manifest wants $want${alts:+ or one of $alts (git blob $(gitblob "$tmp"))}" >&2
    rm -f "$tmp"; status=1; continue
  fi
  mv "$tmp" "$target"
  [[ -n "$note" ]] && echo "$note" > "$target.verified"
  echo "fetched  $path ($origin; verified by $how)"
done < "$manifest"
exit $status
