#!/bin/sh
# Builds the raw-dlib baseline with the same compiler flags that cgo uses for
# engine/dlib (so the comparison measures facekit's overhead, not a flag
# difference): $CGO_CXXFLAGS first, then engine/dlib's own -O3 -DNDEBUG, in
# cgo's order (so `make NATIVE=1 bench` builds both for this CPU). Override
# everything with CXXFLAGS=...; output path is $1 (default bin/baseline).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-bin/baseline}
mkdir -p "$(dirname "$out")"
flags=${CXXFLAGS:-"${CGO_CXXFLAGS:-} -O3 -DNDEBUG"}
# shellcheck disable=SC2086 # flags are a word list on purpose
g++ -std=c++14 $flags -DDLIB_NO_GUI_SUPPORT -Wno-deprecated-declarations \
	-o "$out" "$here/baseline.cc" $(pkg-config --cflags --libs dlib-1) -lpthread
