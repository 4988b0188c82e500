#!/usr/bin/env bash
# vidsnap's lean ffmpeg: builds ffmpeg and ffprobe from Debian 12's own source package (`apt-get source
# ffmpeg`: the same upstream version and security patches as Debian's `ffmpeg` package), configured with
# only what vidsnap needs (./configure-flags.txt), FFmpeg's libraries linked statically.
#
# Used by `npm run ffmpeg:build` (development machines, CI) and by the build stage of ffmpeg-container/Dockerfile.
#
# Output: $FFMPEG_BUILD_ROOT/<debian-version>-<flags-hash>/ (default root: <repo>/.cache/ffmpeg) holding
#   bin/ffmpeg, bin/ffprobe    stripped binaries
#   BUILD-INFO                 Debian source version, configure line, licence, build time
#   runtime-packages.txt       Debian packages of the shared libraries the binaries load (the Dockerfile installs them)
#   COPYING.GPLv2, LICENSE.md  FFmpeg's licence texts
# <flags-hash> = first 12 hex digits of the SHA-256 of configure-flags.txt without comments and blank lines
# (ffmpeg-container/src/ffmpeg/binaries.ts computes the same to find the build). When that folder already
# holds both binaries the script only prints it: a second run is instant.
#
# Needs Debian 12 (bookworm), root or sudo (apt), network access to a Debian mirror on the first run.
# Prints the output folder as the last line of stdout; progress goes to stderr.
# `build-ffmpeg.sh --print-hash` prints only <flags-hash> (no apt, no build; tests compare it with binaries.ts).
# Exit codes: 0 built or cached, 1 any failure (apt, configure, make, a binary that does not run).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
root="${FFMPEG_BUILD_ROOT:-$repo/.cache/ffmpeg}"
flags_file="$here/configure-flags.txt"
jobs="${FFMPEG_BUILD_JOBS:-$(nproc)}"

log() { echo "[ffmpeg:build $(date +%H:%M:%S)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The flags, one per line, without comments and blanks: what the hash covers and what configure gets.
flags="$(sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$flags_file" | grep -v -e '^#' -e '^$')"
hash="$(printf '%s\n' "$flags" | sha256sum | cut -c1-12)"
if [ "${1:-}" = "--print-hash" ]; then echo "$hash"; exit 0; fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "apt needs root: run as root or install sudo"
  SUDO="sudo"
fi

[ -r /etc/os-release ] && . /etc/os-release
[ "${VERSION_CODENAME:-}" = "bookworm" ] || die "needs Debian 12 (bookworm): the build uses Debian 12's ffmpeg source package (this is ${PRETTY_NAME:-unknown})"

# Debian's source index: deb-src lines for bookworm, bookworm-updates and bookworm-security (the security
# suite carries ffmpeg's security releases). Added once, in their own file, when no deb-src is configured.
src_list=/etc/apt/sources.list.d/vidsnap-ffmpeg-src.sources
# awk reads to the end (a `grep -q` would close the pipe early and, with pipefail, fail on apt-cache's SIGPIPE).
source_versions() { apt-cache showsrc ffmpeg 2>/dev/null | awk '/^Version:/ {print $2}' || true; }
versions="$(source_versions)"
if [ -z "$versions" ]; then
  log "apt's index has no ffmpeg source package: writing Debian 12 deb-src entries ($src_list) and updating it"
  $SUDO tee "$src_list" >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  $SUDO apt-get update -qq
  versions="$(source_versions)"
fi

# Newest source version known to apt (e.g. 7:5.1.9-0+deb12u1); the folder name drops the epoch.
version=""
for v in $versions; do
  if [ -z "$version" ] || dpkg --compare-versions "$v" gt "$version"; then version="$v"; fi
done
[ -n "$version" ] || die "apt knows no ffmpeg source package"
out="$root/${version#*:}-$hash"

if [ -x "$out/bin/ffmpeg" ] && [ -x "$out/bin/ffprobe" ]; then
  log "cached: $out"
  echo "$out"
  exit 0
fi

# Build dependencies: the toolchain, nasm (FFmpeg's x86 assembly) and the -dev packages of the external
# libraries configure-flags.txt enables. Installed only when missing.
build_deps=(build-essential nasm pkg-config dpkg-dev zlib1g-dev libgnutls28-dev libdav1d-dev libx264-dev libvpx-dev libopus-dev libwebp-dev)
missing=()
for p in "${build_deps[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing build dependencies: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

started=$(date +%s)
work="$root/work-$hash"
rm -rf "$work" "$out.partial"
mkdir -p "$work" "$out.partial/bin"
cd "$work"
log "fetching the source package ffmpeg=$version (Debian's patches are applied on unpacking)"
# apt-get warns when it downloads as root without its sandbox user; that is harmless here.
apt-get source -qq --only-source "ffmpeg=$version" >/dev/null 2> >(grep -v -e 'unsandboxed' -e '^W: ' >&2 || true)
src="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'ffmpeg-*' | head -n 1)"
[ -n "$src" ] || die "apt-get source left no ffmpeg-* folder in $work"
cd "$src"

mapfile -t flag_args <<<"$flags"
# `ffmpeg -version` then reads like Debian's with a suffix: 5.1.9-0+deb12u1-vidsnap (upstream version + Debian revision).
extra_version="${version##*-}-vidsnap"
log "configure (${#flag_args[@]} flag lines)"
./configure --prefix=/usr/local --extra-version="$extra_version" "${flag_args[@]}" >"$work/configure.log" 2>&1 \
  || { tail -n 30 "$work/configure.log" >&2; die "configure failed (log: $work/configure.log)"; }
log "make -j$jobs (several minutes on 2 cores)"
make -j"$jobs" ffmpeg ffprobe >"$work/make.log" 2>&1 || { tail -n 40 "$work/make.log" >&2; die "make failed (log: $work/make.log)"; }

install -m 0755 -s ffmpeg ffprobe "$out.partial/bin/"
cp COPYING.GPLv2 LICENSE.md "$out.partial/"
for b in ffmpeg ffprobe; do
  "$out.partial/bin/$b" -hide_banner -version >/dev/null || die "the built $b does not run"
done

# The Debian package owning a shared library ldd printed. With merged /usr, dpkg knows some files by their
# /lib path (libc6, zlib1g) and others by their /usr/lib path: try the real file and the ldd path, both ways.
package_of() {
  local real candidate owner
  real="$(readlink -f "$1")"
  for candidate in "$real" "${real#/usr}" "$1" "/usr$1"; do
    owner="$(dpkg -S "$candidate" 2>/dev/null | head -n 1 | cut -d: -f1)" || true
    if [ -n "$owner" ]; then echo "$owner"; return 0; fi
  done
  die "no Debian package owns $1 (needed by the built binaries)"
}
# The Debian packages of every shared library the binaries load (libc's own package included).
runtime_pkgs="$(ldd "$out.partial/bin/ffmpeg" "$out.partial/bin/ffprobe" | awk '/=> \// {print $3}' | sort -u \
  | while read -r lib; do package_of "$lib"; done | sort -u)"
[ -n "$runtime_pkgs" ] || die "ldd listed no shared library"
printf '%s\n' "$runtime_pkgs" >"$out.partial/runtime-packages.txt"

elapsed=$(( $(date +%s) - started ))
{
  echo "source: Debian 12 source package ffmpeg $version (apt-get source, Debian's patches applied)"
  echo "licence: GPL-2.0-or-later (--enable-gpl with libx264); texts: COPYING.GPLv2, LICENSE.md"
  echo "flags-hash: $hash"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in ${elapsed} s with make -j$jobs on $(nproc) cores ($(uname -m))"
  echo "configure: --prefix=/usr/local --extra-version=$extra_version $(printf '%s ' "${flag_args[@]}")"
  echo "runtime packages: $(echo $runtime_pkgs)"
} >"$out.partial/BUILD-INFO"

rm -rf "$out"
mv "$out.partial" "$out"
cd "$root"
rm -rf "$work"
log "built in ${elapsed} s: $out ($(du -sh "$out" | cut -f1))"
echo "$out"
