"""The images compile Annoy for an explicit CPU baseline, never for the build machine's CPU.

annoy 1.17.3 is an sdist whose setup.py adds ``-march=native`` on x86_64: an image built on an
AVX-512 machine then crashes (SIGILL) on a host without AVX-512. function/Dockerfile and
infra/Dockerfile set ANNOY_COMPILER_ARGS instead. No container can run here, so this test
compiles the extension from the locked sdist (sha256 from function/requirements.lock) the way
setuptools' build_ext would inside the image: the interpreter's CFLAGS, then the Dockerfile's
ANNOY_COMPILER_ARGS, on src/annoymodule.cc. Then ``objdump -d`` must show no instruction beyond
the baseline (AVX-512: zmm registers, opmask registers; AVX-VNNI; AMX), while the same check on a
build for x86-64-v4 finds AVX-512: the check can fail.

Builds are cached in build/test-cache/annoy (keyed by the flags); the first run compiles twice (~30 s each).
"""
import hashlib
import platform
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

LOCK = ROOT / "function" / "requirements.lock"
DOCKERFILES = [ROOT / "function" / "Dockerfile", ROOT / "infra" / "Dockerfile"]
CACHE = ROOT / "build" / "test-cache" / "annoy"
# setup.py's flags on x86_64 Linux (annoy 1.17.3), in its order; -march=native is the one to replace
SETUP_PY_FLAGS = ["-D_CRT_SECURE_NO_WARNINGS", "-fpermissive", "-march=native", "-O3", "-ffast-math",
                  "-fno-associative-math", "-DANNOYLIB_MULTITHREADED_BUILD", "-std=c++14"]
BEYOND_V3 = {
    "AVX-512 (zmm registers)": re.compile(r"%zmm\d+"),
    "AVX-512 (opmask registers)": re.compile(r"%k[0-7]\b"),
    "AVX-VNNI / AVX512-VNNI": re.compile(r"\bvpdp(bu|ws)sds?\b"),
    "AMX": re.compile(r"\b(ldtilecfg|tileloadd|tdpb[su][su]d)\b"),
}

needs_x86_toolchain = pytest.mark.skipif(
    platform.machine() != "x86_64" or not shutil.which("g++") or not shutil.which("objdump"),
    reason="needs an x86_64 machine with g++ and objdump (binutils)")


def dockerfile_flags(path: Path) -> list:
    """ANNOY_COMPILER_ARGS as the Dockerfile sets it, its ARG defaults substituted."""
    text = path.read_text(encoding="utf-8")
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, flags=re.M))
    (value,) = re.findall(r'^ENV ANNOY_COMPILER_ARGS="([^"]+)"', text, flags=re.M)
    value = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], value)
    return value.split(",")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=["function", "infra"])
def test_the_dockerfiles_replace_march_native_with_an_explicit_baseline(dockerfile):
    flags = dockerfile_flags(dockerfile)
    assert "-march=native" not in flags and not any("native" in f for f in flags)
    assert "-march=x86-64-v3" in flags and "-mtune=generic" in flags
    # every other flag setup.py would have added is still there (ANNOY_COMPILER_ARGS replaces them all)
    assert [f for f in SETUP_PY_FLAGS if f != "-march=native"] == [f for f in flags if not f.startswith(("-march",
                                                                                                      "-mtune"))]
    text = dockerfile.read_text(encoding="utf-8")
    assert text.index("ENV ANNOY_COMPILER_ARGS") < text.index("-r /tmp/requirements")  # set before annoy is built


def locked_sdist() -> Path:
    """annoy's sdist, fetched with pip and checked against the lock's sha256 (cached)."""
    block = LOCK.read_text(encoding="utf-8").split("annoy==", 1)[1].split("\n\n", 1)[0]
    version = block.split()[0]
    hashes = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", block.split("\n    # via", 1)[0]))
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / f"annoy-{version}.tar.gz"
    if not sdist.is_file() or hashlib.sha256(sdist.read_bytes()).hexdigest() not in hashes:
        done = subprocess.run([sys.executable, "-m", "pip", "download", f"annoy=={version}", "--no-deps",
                               "--no-binary", ":all:", "-d", str(CACHE), "-q"], capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0 and sdist.is_file(), f"cannot fetch the annoy sdist: {done.stderr[-1500:]}"
    assert hashlib.sha256(sdist.read_bytes()).hexdigest() in hashes, "the sdist is not the one the lock pins"
    return sdist


def build_extension(flags: list) -> Path:
    """annoylib.so compiled as build_ext would: interpreter CFLAGS + ``flags`` (ANNOY_COMPILER_ARGS)."""
    from setuptools._distutils import ccompiler, sysconfig as du_sysconfig

    key = hashlib.sha256(",".join(flags).encode()).hexdigest()[:12]
    out = CACHE / f"build-{key}" / "annoylib.so"
    if out.is_file():
        return out
    src = CACHE / "src"
    if not (src / "setup.py").is_file():
        with tarfile.open(locked_sdist()) as tar:
            top = tar.getnames()[0].split("/")[0]
            tar.extractall(CACHE / "unpacked")
        shutil.rmtree(src, ignore_errors=True)
        shutil.move(str(CACHE / "unpacked" / top), str(src))
    compiler = ccompiler.new_compiler()
    du_sysconfig.customize_compiler(compiler)
    tmp = out.parent / "obj"
    objects = compiler.compile([str(src / "src" / "annoymodule.cc")], output_dir=str(tmp),
                               include_dirs=[du_sysconfig.get_python_inc()], extra_postargs=flags)
    compiler.link_shared_object(objects, str(out), target_lang="c++")
    return out


def beyond_baseline(so: Path) -> dict:
    listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(so)], capture_output=True, text=True,
                             check=True, timeout=120).stdout
    found = {name: len(rx.findall(listing)) for name, rx in BEYOND_V3.items()}
    return {name: n for name, n in found.items() if n}, listing


@needs_x86_toolchain
def test_the_image_flags_build_an_extension_without_instructions_beyond_the_baseline():
    so = build_extension(dockerfile_flags(ROOT / "function" / "Dockerfile"))
    found, listing = beyond_baseline(so)
    assert found == {}, f"{so.name} uses instructions beyond x86-64-v3: {found}"
    assert re.search(r"%ymm\d+", listing), "no AVX code at all: was the baseline applied?"
    # and it is a working Annoy
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import annoylib; i = annoylib.Annoy(4, 'angular'); "
            "[i.add_item(n, [n, 1, 0, 1]) for n in range(50)]; i.build(3); print(i.get_nns_by_item(0, 3))")
    done = subprocess.run([sys.executable, "-c", code, str(so.parent)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("[0, "), done.stderr


@needs_x86_toolchain
def test_the_check_finds_avx512_in_a_build_for_a_cpu_that_has_it():
    flags = [f if not f.startswith("-march") else "-march=x86-64-v4" for f in SETUP_PY_FLAGS]
    found, _ = beyond_baseline(build_extension(flags))
    assert found.get("AVX-512 (zmm registers)", 0) > 0
