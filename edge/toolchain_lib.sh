# Sourced by edge/toolchain.sh and edge/arm64.sh (part of both build hashes): what both builds share.
# Usage (after setting SCRIPT): source edge/toolchain_lib.sh TOOLCHAIN LOG_TAG USAGE_LINES "$@"
# (TOOLCHAIN: the folder under .toolchain/; LOG_TAG: e.g. edge-toolchain; USAGE_LINES: the caller's usage
# comment, e.g. 2,6; then the caller's own command line).
# Gives: EDGE_DIR, REPO, REQS, TC_DIR, DEST, STAMP; log, die, usage, apt_options; FORCE from the command line (--force,
# -h/--help); and the Debian mirror to
# fetch from: the machine's own apt sources name the mirror that works here (a proxy, a local
# mirror), deb.debian.org is the fallback. Sets HOST_CODENAME, MIRROR and SEC_MIRROR.
# Overrides: COLDSTART_DEBIAN_MIRROR, COLDSTART_DEBIAN_SECURITY_MIRROR (e.g. archive.debian.org once
# bullseye is archived).

TOOLCHAIN="$1" LOG_TAG="$2" USAGE_LINES="$3"
shift 3
EDGE_DIR="$(dirname -- "$SCRIPT")"
REPO="$(dirname -- "$EDGE_DIR")"
REQS="$EDGE_DIR/requirements.txt"
TC_DIR="$REPO/.toolchain"
DEST="$TC_DIR/$TOOLCHAIN"
STAMP="$DEST/.stamp"

log() { printf '[%s] %s\n' "$LOG_TAG" "$*"; }
die() {
    printf '\n[%s] ERROR: %s\n' "$LOG_TAG" "$1" >&2
    shift
    local line
    for line in "$@"; do printf '[%s]   %s\n' "$LOG_TAG" "$line" >&2; done
    exit 1
}
usage() { sed -n "${USAGE_LINES}p" "$SCRIPT" | sed 's/^# \{0,1\}//'; }

FORCE=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $arg" ;;
    esac
done

# The URI of the machine's configured Debian source for suite $1 (deb822 .sources or one-line .list).
configured_uri() {
    local suite="$1" f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        awk -v want="$suite" '
            function flush() { if (!done && uri != "" && found) { print uri; done = 1; exit } uri = ""; found = 0 }
            /^[[:space:]]*$/ { flush(); next }
            /^[[:space:]]*#/ { next }
            tolower($1) == "uris:"   { uri = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == want) found = 1 }
            END { flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        awk -v want="$suite" '
            $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                          if ($(i + 1) == want) { print $i; exit } }' "$f"
    done
}
HOST_CODENAME="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
uris="$(configured_uri "$HOST_CODENAME")"
MIRROR="${COLDSTART_DEBIAN_MIRROR:-${uris%%$'\n'*}}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
uris="$(configured_uri "$HOST_CODENAME-security")"
SEC_MIRROR="${COLDSTART_DEBIAN_SECURITY_MIRROR:-${uris%%$'\n'*}}"
SEC_MIRROR="${SEC_MIRROR:-http://deb.debian.org/debian-security}"

# APT_OPTS: apt-get options for a throw-away apt state in $1 (its own sources.list, lists, archives
# and an empty dpkg status), so the system's apt state is never read or touched.
apt_options() {
    local apt="$1"
    APT_OPTS=(-q
        -o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=-"
        -o "Dir::Etc::preferences=$apt/preferences" -o "Dir::Etc::preferencesparts=$apt/preferences.d"
        -o "Dir::State::Lists=$apt/lists" -o "Dir::State::status=$apt/status"
        -o "Dir::Cache::archives=$apt/archives" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
        -o "Acquire::Languages=none" -o "APT::Update::Error-Mode=any")
    # apt drops to user _apt for downloads, which cannot write into a root-owned project folder
    if [[ $EUID == 0 ]]; then APT_OPTS+=(-o "APT::Sandbox::User=root"); fi
}
