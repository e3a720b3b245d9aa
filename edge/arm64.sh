#!/usr/bin/env bash
# Build an arm64 (aarch64) kiosk Python into <repo>/.toolchain/arm64, run under qemu-user (see edge/README.md, "arm64").
#
#   bash edge/arm64.sh           # build if missing or out of date (instant when up to date)
#   bash edge/arm64.sh --force   # rebuild from scratch
#
# Why: kiosks may be ARM boards, and nothing here is ARM. Debian's qemu-user-static runs aarch64
# binaries on this x86_64 host, so the kiosk's profiling path (mask -> tokenize -> ONNX Runtime ->
# Annoy -> vote) can run on real arm64 builds of every native part: CPython 3.9 from Debian 11
# (bullseye) arm64 .debs, the C libraries it links to from Debian 12 arm64 .debs (the host's
# release, which also matches the cross compiler's glibc and libstdc++), arm64 wheels from PyPI
# (numpy, onnxruntime, tokenizers, ...), and Annoy cross-compiled with Debian's aarch64-linux-gnu-g++.
# Paddle Lite is left out: PyPI has no paddlelite wheel for linux aarch64 (checked for every version).
#
# Result (relative to the repo):
#   .toolchain/arm64/bin/python    wrapper: qemu-aarch64-static running the arm64 python3.9 with the kiosk packages
#   .toolchain/arm64/root/         the unpacked arm64 .debs (python3.9, libc6, ...); also qemu's -L prefix
#   .toolchain/arm64/site/         arm64 packages (edge/requirements.txt without paddlelite; annoy built here)
#   .toolchain/arm64/.stamp        hash of this script + edge/toolchain_lib.sh + edge/requirements.txt, then the summary line
#   .toolchain/arm64/.unavailable  written instead when the emulator cannot be installed (tests skip, saying why)
#
# Needs: a Debian 12 amd64 host, network access to the Debian mirror and PyPI, the project's .venv
# (for pip) and, optionally, .toolchain/py39 (its python3.9 byte-compiles the arm64 stdlib quickly).
# Environment overrides: COLDSTART_DEBIAN_MIRROR, COLDSTART_DEBIAN_SECURITY_MIRROR (as edge/toolchain.sh).
set -euo pipefail

SCRIPT="$(readlink -f -- "${BASH_SOURCE[0]}")"
# EDGE_DIR, REPO, REQS, TC_DIR, DEST, STAMP, log, die, usage, FORCE, MIRROR, SEC_MIRROR:
source "$(dirname -- "$SCRIPT")/toolchain_lib.sh" arm64 edge-arm64 2,5 "$@"  # shellcheck source=edge/toolchain_lib.sh
QEMU=qemu-aarch64-static
CXX=aarch64-linux-gnu-g++
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
ANNOY_VERSION=1.17.3
# bullseye (Debian 11): the interpreter and the libraries only it has (bookworm moved to libssl3/libffi8)
PY_DEBS=(python3.9 python3.9-minimal libpython3.9-minimal libpython3.9-stdlib libpython3.9-dev python3.9-dev
         libssl1.1 libffi7 libmpdec3)
# bookworm (Debian 12): the C runtime and what python3.9's stdlib modules, onnxruntime and annoy link to
LIB_DEBS=(libc6 libgcc-s1 libstdc++6 zlib1g libexpat1 libbz2-1.0 liblzma5 libuuid1 libsqlite3-0 libcrypt1)
HOST_DEBS=(qemu-user-static g++-aarch64-linux-gnu debian-archive-keyring)
# arm64 wheels: every platform tag an aarch64 manylinux wheel of these packages may carry
PLATFORMS=(manylinux2014_aarch64 manylinux_2_17_aarch64 manylinux_2_24_aarch64 manylinux_2_27_aarch64
           manylinux_2_28_aarch64 linux_aarch64)


HASH="$(cat -- "$SCRIPT" "$EDGE_DIR/toolchain_lib.sh" "$REQS" | sha256sum | cut -c1-16)"
mkdir -p "$TC_DIR"
exec 9>"$TC_DIR/arm64.lock"
flock 9

if [[ $FORCE == 0 && -f "$STAMP" && "$(head -n1 "$STAMP")" == "$HASH" ]] && command -v "$QEMU" >/dev/null; then
    log "up to date: $(sed -n 2p "$STAMP")"
    exit 0
fi
START=$SECONDS

# --------------------------------------------------------------------------- host: emulator + cross compiler
unavailable() {  # the one failure that is not an error: this host cannot run arm64 at all
    mkdir -p "$DEST"
    printf '%s\n' "$1" > "$DEST/.unavailable"
    log "SKIPPED: $1 (arm64 tests will skip with this reason)"
    exit 0
}
[[ -f /etc/debian_version ]] && command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
    || unavailable "not a Debian host with apt-get: qemu-user-static cannot be installed here"
[[ "$(dpkg --print-architecture)" == amd64 ]] || die "this script builds for an amd64 (x86_64) host"
missing=()
for p in "${HOST_DEBS[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] || missing+=("$p")
done
if (( ${#missing[@]} )); then
    [[ $EUID == 0 ]] || unavailable "missing Debian packages ${missing[*]} and not root (run: sudo apt-get install --no-install-recommends ${missing[*]})"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; } \
        || unavailable "apt-get could not install ${missing[*]}"
fi
"$QEMU" --version >/dev/null 2>&1 || unavailable "$QEMU is installed but does not run on this host"


# --------------------------------------------------------------------------- build
BUILD="$TC_DIR/arm64.new"
rm -rf -- "$BUILD" "$TC_DIR/arm64.old"
WORK="$BUILD/.build"
APT="$WORK/apt"
mkdir -p "$BUILD/bin" "$BUILD/site" "$BUILD/root" "$WORK/debs-py" "$WORK/debs-lib" "$WORK/wheels" \
         "$APT/lists/partial" "$APT/archives/partial" "$APT/preferences.d"
: > "$APT/status"
cat > "$APT/sources.list" <<EOF
deb [arch=arm64 signed-by=$KEYRING] $MIRROR bullseye main
deb [arch=arm64 signed-by=$KEYRING] $MIRROR bullseye-updates main
deb [arch=arm64 signed-by=$KEYRING] $SEC_MIRROR bullseye-security main
deb [arch=arm64 signed-by=$KEYRING] $MIRROR $HOST_CODENAME main
deb [arch=arm64 signed-by=$KEYRING] $MIRROR $HOST_CODENAME-updates main
deb [arch=arm64 signed-by=$KEYRING] $SEC_MIRROR $HOST_CODENAME-security main
EOF
apt_options "$APT"
APT_OPTS+=(-o "APT::Architecture=arm64" -o "APT::Architectures=arm64")

log "[1/6] arm64 package lists (bullseye for python3.9, $HOST_CODENAME for the C libraries; temporary apt state)"
apt-get "${APT_OPTS[@]}" update >"$WORK/apt-update.log" 2>&1 || {
    tail -n 20 "$WORK/apt-update.log" >&2
    die "could not fetch the arm64 package lists from $MIRROR / $SEC_MIRROR" \
        "if bullseye has moved to archive.debian.org: COLDSTART_DEBIAN_MIRROR=http://archive.debian.org/debian"
}

log "[2/6] downloading ${#PY_DEBS[@]} bullseye + ${#LIB_DEBS[@]} $HOST_CODENAME arm64 packages"
# The newest version across both releases: python3.9 and the bullseye-only libraries exist only in
# bullseye(-security) (so the security-patched build is taken), the C libraries are newer in bookworm.
fetch() {  # fetch DIR PACKAGE...
    local dir="$1" pkg
    shift
    for pkg in "$@"; do
        if ! (cd "$dir" && apt-get "${APT_OPTS[@]}" download "$pkg:arm64" >>"$WORK/apt-download.log" 2>&1); then
            # the mirror may list a security update whose arm64 file it does not have: take the release's
            log "  $pkg: newest arm64 version not downloadable from the mirror; taking bullseye's release version"
            (cd "$dir" && apt-get "${APT_OPTS[@]}" -t bullseye download "$pkg:arm64" >>"$WORK/apt-download.log" 2>&1) \
                || { tail -n 20 "$WORK/apt-download.log" >&2; die "apt-get download $pkg:arm64 failed"; }
        fi
    done
}
fetch "$WORK/debs-py" "${PY_DEBS[@]}"
fetch "$WORK/debs-lib" "${LIB_DEBS[@]}"
grep -q '^libc6 2\.3[6-9]' <(for d in "$WORK"/debs-lib/libc6_*.deb; do dpkg-deb -W --showformat='${Package} ${Version}\n' "$d"; done) \
    || die "expected $HOST_CODENAME's libc6 (glibc >= 2.36, what $CXX links against)"
for deb in "$WORK"/debs-py/*.deb "$WORK"/debs-lib/*.deb; do
    dpkg-deb -W --showformat='${Package} ${Version} ${Architecture}\n' "$deb"
done | sort > "$BUILD/debs.txt"
grep -qv ' arm64$' <(grep -v ' all$' "$BUILD/debs.txt") && die "a non-arm64 package was downloaded:" "$(cat "$BUILD/debs.txt")"

log "[3/6] unpacking into $BUILD/root"
for deb in "$WORK"/debs-lib/*.deb "$WORK"/debs-py/*.deb; do
    dpkg-deb -x "$deb" "$BUILD/root"
done
[[ -x "$BUILD/root/usr/bin/python3.9" ]] || die "python3.9 missing after unpacking"
file_arch="$(od -An -tx1 -j18 -N2 "$BUILD/root/usr/bin/python3.9" | tr -d ' ')"
[[ "$file_arch" == b700 ]] || die "usr/bin/python3.9 is not an aarch64 ELF (e_machine $file_arch)"

cat > "$BUILD/bin/python" <<'EOF'
#!/bin/sh
# arm64 CPython 3.9 (Debian 11 build) with the kiosk packages, under qemu-user; generated by edge/arm64.sh.
# -L: the guest's absolute paths (ld-linux-aarch64.so.1, /lib/aarch64-linux-gnu/...) resolve inside root/ first.
here=$(dirname -- "$(dirname -- "$(readlink -f -- "$0")")")
PYTHONHOME="$here/root/usr"
PYTHONPATH="$here/site${PYTHONPATH:+:$PYTHONPATH}"
PYTHONNOUSERSITE=1
export PYTHONHOME PYTHONPATH PYTHONNOUSERSITE
exec qemu-aarch64-static -L "$here/root" "$here/root/usr/bin/python3.9" "$@"
EOF
chmod +x "$BUILD/bin/python"
# Byte-compiled once here, so the emulated interpreter does not parse the stdlib on every start
# (.pyc files do not depend on the CPU; the x86 toolchain's 3.9 writes them when it exists).
if [[ -x "$TC_DIR/py39/bin/python" ]]; then
    "$TC_DIR/py39/bin/python" -m compileall -q -j 0 "$BUILD/root/usr/lib/python3.9" >"$WORK/compileall.log" 2>&1 || true
fi
"$BUILD/bin/python" -c 'import platform, ssl, ctypes, decimal, sqlite3, lzma, bz2, zlib, hashlib, uuid; assert platform.machine() == "aarch64", platform.machine()' \
    || die "the arm64 python3.9 does not start under $QEMU (or misses stdlib modules; see above)"

log "[4/6] arm64 wheels from PyPI (edge/requirements.txt without paddlelite and annoy)"
PIP=("$REPO/.venv/bin/pip")
[[ -x "${PIP[0]}" ]] || die "no $REPO/.venv/bin/pip: run 'make setup' first"
grep -v -E '^(annoy|paddlelite)==' "$REQS" > "$WORK/requirements-arm64.txt"
platform_args=()
for p in "${PLATFORMS[@]}"; do platform_args+=(--platform "$p"); done
"${PIP[@]}" install -q --disable-pip-version-check --no-deps --only-binary=:all: --target "$BUILD/site" \
        --python-version 3.9 --implementation cp "${platform_args[@]}" -r "$WORK/requirements-arm64.txt" \
    || die "pip could not get arm64 (aarch64, cp39) wheels for edge/requirements.txt (the package is named above)"
[[ -n "$(find "$BUILD/site" -name 'onnxruntime_pybind11_state*aarch64*.so' -print -quit)" ]] || die "onnxruntime was not installed as an aarch64 build"

log "[5/6] annoy $ANNOY_VERSION cross-compiled with $CXX"
"${PIP[@]}" download -q --disable-pip-version-check --no-deps --no-binary :all: "annoy==$ANNOY_VERSION" -d "$WORK" \
    || die "could not download the annoy $ANNOY_VERSION sdist from PyPI"
tar -xzf "$WORK/annoy-$ANNOY_VERSION.tar.gz" -C "$WORK"
SRC="$WORK/annoy-$ANNOY_VERSION"
mkdir -p "$BUILD/site/annoy"
cp "$SRC/annoy/__init__.py" "$SRC/annoy/__init__.pyi" "$SRC/annoy/py.typed" "$BUILD/site/annoy/"
# annoy's setup.py flags, with -march=armv8-a instead of -march=native (no CPU-specific build)
"$CXX" -shared -fPIC -O3 -ffast-math -fno-associative-math -march=armv8-a -std=c++14 -fpermissive \
    -D_CRT_SECURE_NO_WARNINGS -DANNOYLIB_MULTITHREADED_BUILD \
    -I"$BUILD/root/usr/include/python3.9" -I"$BUILD/root/usr/include" \
    "$SRC/src/annoymodule.cc" -o "$BUILD/site/annoy/annoylib.cpython-39-aarch64-linux-gnu.so" \
    || die "cross-compiling annoy failed (see the compiler output above)"
mkdir -p "$BUILD/site/annoy-$ANNOY_VERSION.dist-info"
printf 'Metadata-Version: 2.1\nName: annoy\nVersion: %s\n' "$ANNOY_VERSION" > "$BUILD/site/annoy-$ANNOY_VERSION.dist-info/METADATA"
if [[ -x "$TC_DIR/py39/bin/python" ]]; then
    "$TC_DIR/py39/bin/python" -m compileall -q -j 0 "$BUILD/site" >"$WORK/compileall-site.log" 2>&1 || true
fi

log "[6/6] smoke test under $QEMU"
SUMMARY_PY='
import platform, sys, annoy, numpy, onnxruntime, tokenizers
from importlib.metadata import version
index = annoy.AnnoyIndex(3, "angular")
for i, v in enumerate([[1, 0, 0], [0, 1, 0], [0.9, 0.1, 0]]):
    index.add_item(i, v)
index.build(2)
assert index.get_nns_by_vector([1, 0, 0], 2) == [0, 2], index.get_nns_by_vector([1, 0, 0], 2)
print("%s Python %s, numpy %s, annoy %s, onnxruntime %s, tokenizers %s" % (platform.machine(),
      sys.version.split()[0], numpy.__version__, version("annoy"), onnxruntime.__version__, tokenizers.__version__))
'
VERSIONS="$("$BUILD/bin/python" -c "$SUMMARY_PY")" || die "the arm64 kiosk imports fail under $QEMU (see above)"
QEMU_VERSION="$("$QEMU" --version | head -n1 | sed 's/ version / /; s/ (.*//')"
rm -rf -- "$WORK"
rm -f -- "$DEST/.unavailable"
SIZE="$(du -sh "$BUILD" | cut -f1)"
SUMMARY="$VERSIONS; $QEMU_VERSION; $SIZE in ${DEST#"$REPO"/}; built in $((SECONDS - START)) s"
printf '%s\n%s\n' "$HASH" "$SUMMARY" > "$BUILD/.stamp"
if [[ -e "$DEST" ]]; then mv -- "$DEST" "$TC_DIR/arm64.old"; fi
mv -- "$BUILD" "$DEST"
rm -rf -- "$TC_DIR/arm64.old"
log "done: $SUMMARY"
log "run: ${DEST#"$REPO"/}/bin/python  (arm64 under $QEMU)"
