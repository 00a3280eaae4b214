#!/usr/bin/env bash
# fetch-unicorn.sh PREFIX: put Debian 13's Unicorn 2.1.1 (libunicorn-dev and
# libunicorn2t64, 2.1.1-2+b2) into PREFIX, for emu/uc to link statically.
#
# The system is not touched: apt runs with a private sources list (trixie,
# the same mirror as this machine's own Debian sources), private lists,
# cache and download folder under PREFIX's parent, and the packages are
# unpacked with dpkg-deb -x, not installed. Each .deb must match the sha256
# committed below, or nothing is unpacked. Both packages need only glibc
# 2.34, which Debian 12 has (2.36).
set -euo pipefail

prefix=${1:?usage: fetch-unicorn.sh PREFIX}
version=2.1.1-2+b2
declare -A want=(
  [libunicorn-dev]=479613e244a6023c03708951a5f0e00fc96c83a4b74b4d74c9fe7d3a9050208b
  [libunicorn2t64]=3f760a28c65a93662edbcb21fceb2e0a1c0ab0e8277564fc572e6532949e3e3f
)
stamp="$prefix/.probesim-unicorn-$version"
if [ -f "$stamp" ]; then
  exit 0
fi

work="$(dirname "$prefix")/.unicorn-apt"
rm -rf "$work" "$prefix"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"

# The mirror this machine's Debian sources name (deb822 or one-line form).
mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
  | grep -E '^[[:space:]]*(URIs:|deb )' | grep -oE 'https?://[^ ]+/debian/?( |$)' \
  | tr -d ' ' | head -n 1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] ${mirror%/} trixie main" >"$work/sources.list"

apt_opts=(
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o Debug::NoLocking=1
  -qq
)
echo "fetch-unicorn: downloading Unicorn $version from ${mirror%/} (trixie) into $prefix"
apt-get "${apt_opts[@]}" update
# apt downloads as the _apt user when it exists; the folder must be its.
if id _apt >/dev/null 2>&1; then chown _apt "$work/debs"; fi
(cd "$work/debs" && apt-get "${apt_opts[@]}" download "libunicorn-dev=$version" "libunicorn2t64=$version")

mkdir -p "$prefix.tmp"
for pkg in "${!want[@]}"; do
  deb=$(ls "$work/debs/${pkg}_"*.deb)
  got=$(sha256sum "$deb" | cut -d' ' -f1)
  if [ "$got" != "${want[$pkg]}" ]; then
    echo "fetch-unicorn: $deb has sha256 $got, want ${want[$pkg]}" >&2
    rm -rf "$prefix.tmp"
    exit 1
  fi
  dpkg-deb -x "$deb" "$prefix.tmp"
done
mv "$prefix.tmp" "$prefix"
rm -rf "$work"
touch "$stamp"
