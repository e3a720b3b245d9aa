"""coldstart batch jobs: teacher embedding, index build, distillation, export, publish.

Run as ``python -m infra <job> --help``.
"""
# zlib must be loaded before paddle: libpaddle exports its own zlib symbols, and a
# Python zlib module bound to them later crashes (inflateReset2 / "inconsistent
# stream state") in scipy, aiohttp and anything else that decompresses.
import zlib  # noqa: F401
