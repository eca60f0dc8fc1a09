"""Build of fastdicom's compiled core: one extension, fastdicom._core.

Environment switches:
  FASTDICOM_SANITIZE=1   build with AddressSanitizer + UndefinedBehaviorSanitizer
                         (run Python with LD_PRELOAD=$(gcc -print-file-name=libasan.so))
  FASTDICOM_DEBUG=1      -O0 -g
"""
import glob
import os
import sys

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # pragma: no cover - Cython is a build requirement
    sys.exit("Cython is required to build fastdicom (pip install Cython)")

SANITIZE = os.environ.get("FASTDICOM_SANITIZE", "") not in ("", "0")
DEBUG = os.environ.get("FASTDICOM_DEBUG", "") not in ("", "0")

if sys.platform == "win32":
    cflags = ["/O2", "/W3"]
    ldflags = []
else:
    cflags = ["-std=c99", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-unused-function"]
    ldflags = []
    if SANITIZE:
        san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]
        cflags += ["-O1", "-g"] + san
        ldflags += san
    elif DEBUG:
        cflags += ["-O0", "-g"]
    else:
        cflags += ["-O3"]

c_sources = sorted(glob.glob(os.path.join("csrc", "*.c")))

extensions = [
    Extension(
        "fastdicom._core",
        sources=[os.path.join("fastdicom", "_core.pyx")] + c_sources,
        include_dirs=["csrc"],
        extra_compile_args=cflags,
        extra_link_args=ldflags,
        depends=glob.glob(os.path.join("csrc", "*.h"))
        + glob.glob(os.path.join("fastdicom", "_core_src", "*.pxi")),
    )
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3", "embedsignature": True},
        quiet=True,
    ),
)
