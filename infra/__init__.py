"""coldstart batch jobs: teacher embedding, index build, distillation, export, publish.

Run as ``python -m infra <job> --help``.
"""
# zlib must be loaded before paddle: libpaddle exports its own zlib symbols, and a
# Python zlib module bound to them later crashes (inflateReset2 / "inconsistent
# stream state") in scipy, aiohttp and anything else that decompresses.
import zlib  # noqa: F401

import warnings

# paddle imports distutils after setuptools; the two-line UserWarning says nothing a user can act on
# and broke the one-line error rule of `python -m infra`.
warnings.filterwarnings("ignore", message="Setuptools is replacing distutils")
