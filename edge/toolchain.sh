#!/usr/bin/env bash
# Build the kiosk's Python 3.9 toolchain into <repo>/.toolchain/py39 (see edge/README.md, "Toolchain").
#
#   bash edge/toolchain.sh           # build if missing or out of date (instant when up to date)
#   bash edge/toolchain.sh --force   # rebuild from scratch
#
# Why: Paddle Lite wheels exist only for CPython 3.7-3.10 and no Python 3.10 is reachable here, so
# we take CPython 3.9 from Debian 11 (bullseye) .debs, unpacked (not installed) into a project-local
# prefix through a throw-away apt configuration; the system's apt state is never touched.  The kiosk
# packages (edge/requirements.txt) go into <prefix>/site with pip 24.2 (the last pip for 3.9 we use).
#
# Result (relative to the repo):
#   .toolchain/py39/bin/python           wrapper: Python 3.9 with the kiosk packages importable
#   .toolchain/py39/bin/paddle_lite_opt  Paddle Lite's model converter (the wheel's console script)
#   .toolchain/py39/bin/pip              pip 24.2 for that Python (use --target .toolchain/py39/site)
#   .toolchain/py39/root/                the unpacked bullseye packages (usr/bin/python3.9, stdlib, headers)
#   .toolchain/py39/site/                the packages of edge/requirements.txt
#   .toolchain/py39/.stamp               hash of this script + edge/toolchain_lib.sh + edge/requirements.txt, then the summary line
#
# Environment overrides (normally not needed; the mirror is read from the machine's apt sources):
#   COLDSTART_DEBIAN_MIRROR           e.g. http://archive.debian.org/debian  (once bullseye is archived)
#   COLDSTART_DEBIAN_SECURITY_MIRROR  e.g. http://archive.debian.org/debian-security
set -euo pipefail

SCRIPT="$(readlink -f -- "${BASH_SOURCE[0]}")"
# EDGE_DIR, REPO, REQS, TC_DIR, DEST, STAMP, log, die, usage, FORCE, MIRROR, SEC_MIRROR:
source "$(dirname -- "$SCRIPT")/toolchain_lib.sh" py39 edge-toolchain 2,6 "$@"  # shellcheck source=edge/toolchain_lib.sh

SUITE=bullseye                # Debian 11: the last Debian with CPython 3.9
PY=python3.9
PIP_VERSION=24.2              # runs on 3.9 (pip >= 25.3 needs 3.10)
PIP_WHEEL="pip-$PIP_VERSION-py3-none-any.whl"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Debian 11 packages unpacked into the prefix. distutils/lib2to3 must be pinned: they are arch:all
# "python3-*" packages whose newest version in any configured suite would otherwise be picked.
DEBS=(python3.9 python3.9-minimal libpython3.9-minimal libpython3.9-stdlib
      libpython3.9-dev python3.9-dev
      libssl1.1 libffi7 libmpdec3
      python3-distutils=3.9.2-1 python3-lib2to3=3.9.2-1)
# Debian 12 packages the build and the unpacked interpreter need from the host: g++ builds annoy
# (an sdist); the rest are the shared libraries python3.9 and its stdlib extension modules link to
# (the Depends of the bullseye packages, with Debian 12 names).
HOST_DEBS=(debian-archive-keyring g++
           libexpat1 zlib1g libbz2-1.0 libcrypt1 libdb5.3 liblzma5 libncursesw6 libnsl2
           libreadline8 libsqlite3-0 libtinfo6 libtirpc3 libuuid1 libstdc++6 libgcc-s1
           tzdata media-types)


[[ -f "$REQS" ]] || die "missing $REQS"
HASH="$(cat -- "$SCRIPT" "$EDGE_DIR/toolchain_lib.sh" "$REQS" | sha256sum | cut -c1-16)"

mkdir -p "$TC_DIR"
exec 9>"$TC_DIR/py39.lock"
if ! flock -n 9; then
    log "another toolchain build is running; waiting for it ..."
    flock 9
fi

if [[ $FORCE == 0 && -f "$STAMP" && "$(head -n1 "$STAMP")" == "$HASH" ]] \
        && "$DEST/bin/python" -c '' 2>/dev/null; then
    log "up to date: $(sed -n 2p "$STAMP")"
    exit 0
fi

START=$SECONDS

# --------------------------------------------------------------------------- host checks
[[ -f /etc/debian_version ]] && command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
    || die "this script needs a Debian (12) host with apt-get and dpkg-deb"
ARCH="$(dpkg --print-architecture)"
[[ "$ARCH" == amd64 ]] || die "unsupported architecture '$ARCH': the Paddle Lite wheel and the paths here are x86_64 (amd64) only"

missing=()
for p in "${HOST_DEBS[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] || missing+=("$p")
done
if (( ${#missing[@]} )); then
    log "installing Debian packages the toolchain needs: ${missing[*]}"
    [[ $EUID == 0 ]] || die "missing Debian packages: ${missing[*]}" "run: sudo apt-get install --no-install-recommends ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
        log "apt-get install failed; running apt-get update and retrying"
        apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}" \
            || die "could not install ${missing[*]} with apt-get" "check the machine's apt sources (/etc/apt/sources.list.d/) and network access to them"
    fi
fi

[[ -f "$KEYRING" ]] || die "missing $KEYRING (Debian package debian-archive-keyring)"

# --------------------------------------------------------------------------- build
log "building Python 3.9 toolchain into $DEST (Debian $SUITE from $MIRROR; security from $SEC_MIRROR)"
# Built next to the old toolchain and swapped in at the end: a failed (re)build leaves the previous
# toolchain (if any) in place, and the failed tree in py39.new for inspection.
BUILD="$TC_DIR/py39.new"
rm -rf -- "$BUILD" "$TC_DIR/py39.old"
WORK="$BUILD/.build"
APT="$WORK/apt"
mkdir -p "$BUILD/bin" "$BUILD/lib" "$BUILD/site" "$BUILD/root" "$WORK/debs" \
         "$APT/lists/partial" "$APT/archives/partial" "$APT/preferences.d"
: > "$APT/status"   # an empty dpkg status: the host's installed packages must not influence candidates
cat > "$APT/sources.list" <<EOF
deb [signed-by=$KEYRING] $MIRROR $SUITE main
deb [signed-by=$KEYRING] $MIRROR $SUITE-updates main
deb [signed-by=$KEYRING] $SEC_MIRROR $SUITE-security main
EOF
apt_options "$APT"

log "[1/7] fetching the $SUITE package lists (temporary apt state in $APT)"
apt-get "${APT_OPTS[@]}" update >"$WORK/apt-update.log" 2>&1 || {
    cat "$WORK/apt-update.log" >&2
    die "could not fetch the Debian $SUITE package lists (see apt output above)" \
        "sources tried: $MIRROR ($SUITE, $SUITE-updates), $SEC_MIRROR ($SUITE-security)" \
        "check network access to those hosts; if Debian has moved $SUITE to archive.debian.org, run with" \
        "COLDSTART_DEBIAN_MIRROR=http://archive.debian.org/debian COLDSTART_DEBIAN_SECURITY_MIRROR=http://archive.debian.org/debian-security"
}

log "[2/7] downloading ${#DEBS[@]} $SUITE packages"
for pkg in "${DEBS[@]}"; do
    (cd "$WORK/debs" && apt-get "${APT_OPTS[@]}" download "$pkg" >>"$WORK/apt-download.log" 2>&1) || {
        tail -n 20 "$WORK/apt-download.log" >&2
        die "apt-get download $pkg failed (Debian $SUITE from $MIRROR / $SEC_MIRROR)" \
            "check that the package/version still exists: apt-cache policy in the temporary state:" \
            "apt-cache ${APT_OPTS[*]} policy ${pkg%%=*}" \
            "and network access to the mirror"
    }
done
for deb in "$WORK"/debs/*.deb; do
    dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb"
done | sort > "$BUILD/lib/debs.txt"

log "[3/7] unpacking into $BUILD/root"
for deb in "$WORK"/debs/*.deb; do
    dpkg-deb -x "$deb" "$BUILD/root"
done
[[ -x "$BUILD/root/usr/bin/$PY" ]] || die "$PY missing after unpacking the .debs"

# Wrappers: they resolve their own location (they work in py39.new during the build and in py39
# after the swap). bin/paddle_lite_opt runs the wheel's console script through bin/python.
cat > "$BUILD/bin/python" <<'EOF'
#!/bin/sh
# Python 3.9 (Debian 11 build, unpacked) with the kiosk packages; generated by edge/toolchain.sh.
here=$(dirname -- "$(dirname -- "$(readlink -f -- "$0")")")
LD_LIBRARY_PATH="$here/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
PYTHONHOME="$here/root/usr"
PYTHONPATH="$here/site${PYTHONPATH:+:$PYTHONPATH}"
PYTHONNOUSERSITE=1
export LD_LIBRARY_PATH PYTHONHOME PYTHONPATH PYTHONNOUSERSITE
exec "$here/root/usr/bin/python3.9" "$@"
EOF
cat > "$BUILD/bin/paddle_lite_opt" <<'EOF'
#!/bin/sh
# Paddle Lite model converter (paddlelite wheel's console script); generated by edge/toolchain.sh.
here=$(dirname -- "$(dirname -- "$(readlink -f -- "$0")")")
exec "$here/bin/python" "$here/site/bin/paddle_lite_opt" "$@"
EOF
cat > "$BUILD/bin/pip" <<EOF
#!/bin/sh
# pip $PIP_VERSION for the toolchain's Python 3.9; install with --target "\$here/site". Generated by edge/toolchain.sh.
here=\$(dirname -- "\$(dirname -- "\$(readlink -f -- "\$0")")")
exec "\$here/bin/python" "\$here/lib/$PIP_WHEEL/pip" "\$@"
EOF
chmod +x "$BUILD/bin/python" "$BUILD/bin/paddle_lite_opt" "$BUILD/bin/pip"
ln -s python "$BUILD/bin/python3"
ln -s python "$BUILD/bin/python3.9"
"$BUILD/bin/python" -c 'import ssl, ctypes, decimal, sqlite3, lzma, bz2, zlib, hashlib, distutils.sysconfig' \
    || die "the unpacked $PY does not start or misses stdlib modules (see above)" \
           "a shared library from the host may be missing: ldd $BUILD/root/usr/bin/$PY"
# Debian byte-compiles the stdlib at install time (postinst), which dpkg-deb -x skips; do it here
# so start-up does not recompile (or try to write) it on every run.
"$BUILD/bin/python" -m compileall -q -j 0 "$BUILD/root/usr/lib/python3.9" >"$WORK/compileall.log" 2>&1 || true

log "[4/7] getting pip $PIP_VERSION"
if [[ -x "$REPO/.venv/bin/pip" ]]; then
    HOST_PIP=("$REPO/.venv/bin/pip")
elif python3 -m pip --version >/dev/null 2>&1; then
    HOST_PIP=(python3 -m pip)
else
    die "no pip available to download pip $PIP_VERSION" \
        "run 'make setup' first (creates .venv with pip), or install python3-pip"
fi
"${HOST_PIP[@]}" download -q --disable-pip-version-check --no-deps "pip==$PIP_VERSION" -d "$BUILD/lib" \
    || die "could not download pip==$PIP_VERSION with ${HOST_PIP[*]}" "check access to PyPI (pip config list; PIP_INDEX_URL)"
[[ -f "$BUILD/lib/$PIP_WHEEL" ]] || die "pip download did not produce $BUILD/lib/$PIP_WHEEL"

log "[5/7] installing edge/requirements.txt into $BUILD/site (annoy is compiled here, ~30 s)"
# annoy's extension includes <Python.h>, whose Debian pyconfig.h includes
# <x86_64-linux-gnu/python3.9/pyconfig.h>: add the prefix's include root (C and C++ flags).
INC="-I$BUILD/root/usr/include"
CFLAGS="$INC${CFLAGS:+ $CFLAGS}" CXXFLAGS="$INC${CXXFLAGS:+ $CXXFLAGS}" \
    "$BUILD/bin/pip" install -q --disable-pip-version-check --root-user-action=ignore \
        --no-warn-script-location --no-deps --target "$BUILD/site" -r "$REQS" \
    || die "pip could not install $REQS for Python 3.9 (the failing package is named in pip's output above)" \
           "check access to PyPI, that the pinned version exists with a cp39/py3 wheel (or builds: annoy needs g++)," \
           "and retry with: bash edge/toolchain.sh --force"
"$BUILD/bin/pip" check --disable-pip-version-check >"$WORK/pip-check.log" 2>&1 || {
    grep -v '^WARNING' "$WORK/pip-check.log" >&2
    die "edge/requirements.txt is not a complete, consistent set for Python 3.9 (pip check above)" \
        "add/adjust the pins it names"
}

log "[6/7] checking shared libraries"
notfound=$(
    export LD_LIBRARY_PATH="$BUILD/root/usr/lib/x86_64-linux-gnu"
    { echo "$BUILD/root/usr/bin/$PY"; ls "$BUILD"/root/usr/lib/python3.9/lib-dynload/*.so
      # extension modules only: vendored libs (numpy.libs/, paddlelite/libs/) resolve their own
      # dependencies through the RPATH of the module that loads them, which ldd on them alone misses
      find "$BUILD/site" -name '*.so' ! -path '*.libs/*' ! -path '*/libs/*'; } | while read -r so; do
        ldd "$so" 2>/dev/null | grep 'not found' | sed "s|^|$so: |" || true
    done
)
[[ -z "$notfound" ]] || die "shared libraries not found:" "$notfound" \
    "install the Debian 12 packages that provide them (apt-file search <lib>)"

log "[7/7] smoke test"
SUMMARY_PY='
import sys, annoy, numpy, onnxruntime, tokenizers, boto3
from importlib.metadata import version
from paddlelite.lite import Opt, MobileConfig, create_paddle_predictor
print("Python %s, numpy %s, annoy %s, onnxruntime %s, tokenizers %s, boto3 %s, paddlelite %s (%s)" % (
    sys.version.split()[0], numpy.__version__, version("annoy"), onnxruntime.__version__,
    tokenizers.__version__, boto3.__version__, version("paddlelite"), Opt().version()))
'
VERSIONS="$("$BUILD/bin/python" -c "$SUMMARY_PY")" \
    || die "the toolchain was built but the kiosk imports fail (see above)"
"$BUILD/bin/paddle_lite_opt" --version >/dev/null 2>&1 || die "$BUILD/bin/paddle_lite_opt --version failed"

rm -rf -- "$WORK"
# pip wrote console scripts (site/bin/*) with the unpacked interpreter's path (in py39.new, and
# without the environment it needs): point them at the final wrapper so they also run directly.
for f in "$BUILD"/site/bin/*; do
    if [[ -f "$f" && "$(head -c 2 "$f")" == '#!' ]]; then
        sed -i "1s|^#!.*python.*\$|#!$DEST/bin/python|" "$f"
    fi
done
SIZE="$(du -sh "$BUILD" | cut -f1)"
DEB_PY="$(awk '$1 == "python3.9" { print $2 }' "$BUILD/lib/debs.txt")"
SUMMARY="$VERSIONS; Debian python3.9 $DEB_PY; $SIZE in ${DEST#"$REPO"/}; built in $((SECONDS - START)) s"
printf '%s\n%s\n' "$HASH" "$SUMMARY" > "$BUILD/.stamp"
if [[ -e "$DEST" ]]; then mv -- "$DEST" "$TC_DIR/py39.old"; fi
mv -- "$BUILD" "$DEST"
rm -rf -- "$TC_DIR/py39.old"
"$DEST/bin/python" -c '' || die "the toolchain does not start after moving it to $DEST"
log "done: $SUMMARY"
log "run: ${DEST#"$REPO"/}/bin/python  |  converter: ${DEST#"$REPO"/}/bin/paddle_lite_opt (or paddlelite.lite.Opt)"
