"""Build the compiled parts of fastw2v: Cython modules in fastw2v/ linked with src_c/.

Set FASTW2V_DEBUG=1 when building to turn Cython bounds checking and C assertions back on
(slow; for hunting memory errors).
"""
import glob
import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("FASTW2V_DEBUG", "") not in ("", "0")

# Portable code only: no -march=native, so a wheel built here runs on any x86-64 / arm64.
if sys.platform == "win32":
    cflags = ["/O2"] if not DEBUG else ["/Od", "/Zi"]
else:
    cflags = ["-O3", "-std=gnu99"] if not DEBUG else ["-O0", "-g", "-std=gnu99", "-UNDEBUG"]
libraries = [] if sys.platform == "win32" else ["m"]


# every header: a change to one rebuilds the modules, and the sdist carries them all
headers = sorted(glob.glob("src_c/*.h"))


def extension(name, sources):
    return Extension(name, sources, include_dirs=["src_c"], depends=headers,
                     extra_compile_args=cflags, libraries=libraries)


extensions = [
    extension("fastw2v._vocab",
              ["fastw2v/_vocab.pyx", "src_c/w2v_text.c", "src_c/w2v_tables.c"]),
    extension("fastw2v._train", ["fastw2v/_train.pyx", "src_c/w2v_train.c",
                                 "src_c/w2v_train_avx2.c"]),
    extension("fastw2v._lookup", ["fastw2v/_lookup.pyx", "src_c/w2v_lookup.c"]),
]

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": not DEBUG,
    "embedsignature": True,
}

setup(ext_modules=cythonize(extensions, compiler_directives=directives))
