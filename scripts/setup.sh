#!/usr/bin/env bash
# Installs facekit's native build dependencies from Debian's packages.
# Idempotent: it installs only what is missing, and runs apt-get update only
# when something has to be installed.
set -euo pipefail

packages=(
  build-essential pkg-config
  libdlib-dev libdlib-data          # dlib 19.24 and the 68-point landmark model
  libopenblas-dev liblapack-dev     # BLAS/LAPACK for dlib's networks
  libjpeg-dev libpng-dev libgif-dev
  libturbojpeg0-dev                 # libjpeg-turbo's TurboJPEG API: JPEG intake (engine/imageio/turbojpeg)
  libsqlite3-dev
  postgresql-15                     # the postgres library backend and its tests (initdb, pg_ctl)
  libopencv-dev                     # OpenCV 4.6 DNN for the ONNX models (engine/ocvdnn, gocv v0.32.0)
  curl bzip2 ca-certificates jq     # jq: the README's curl examples
  python3-numpy                     # scripts/tfgraph-reference.py (test fixtures)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: native dependencies present"
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
