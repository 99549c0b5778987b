"""The C kernels also build where the AVX2 variant is not compiled in: arm64 and every
other non-x86 machine, or any build with -DW2V_NO_AVX2 (which this test uses to stand in
for them). A header that only parses on x86 once broke those builds unnoticed."""
import platform
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src_c"

# Chooses the kernels as fastw2v does, then checks that only the baseline ones exist.
MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "w2v_train.h"

int main(void)
{
    static w2v_model m;
    memset(&m, 0xff, sizeof m);     /* init must set what it reports, not find zeros */
    if (w2v_simd_supported(W2V_SIMD_AVX2)) return 10;
    if (w2v_model_init(&m, W2V_SIMD_AVX2) != -1) return 11;
    if (w2v_model_init(&m, W2V_SIMD_AUTO) != 0) return 12;
    if (m.prefetch_write) return 13;
    printf("%d\n", m.simd);
    return 0;
}
"""


def compiler():
    argv = shlex.split(sysconfig.get_config_var("CC") or "cc")
    if sys.platform == "win32" or shutil.which(argv[0]) is None:
        pytest.skip("needs the C compiler Python was built with")
    return argv


@pytest.mark.parametrize("source", sorted(p.name for p in SRC.glob("*.c")))
def test_each_source_compiles_without_avx2(source, tmp_path):
    cmd = compiler() + ["-std=gnu99", "-O1", "-DW2V_NO_AVX2", f"-I{SRC}", "-c",
                        str(SRC / source), "-o", str(tmp_path / "out.o")]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_training_kernels_without_avx2_choose_the_baseline(tmp_path):
    main = tmp_path / "main.c"
    main.write_text(MAIN)
    exe = tmp_path / "kernels"
    cmd = compiler() + ["-std=gnu99", "-O1", "-DW2V_NO_AVX2", f"-I{SRC}", str(main),
                        str(SRC / "w2v_train.c"), str(SRC / "w2v_train_avx2.c"),
                        "-o", str(exe), "-lm"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ran = subprocess.run([str(exe)], capture_output=True, text=True)
    assert ran.returncode == 0, f"exit {ran.returncode}"
    from fastw2v import _train
    assert int(ran.stdout) == _train.SIMD_NAMES["generic"]



@pytest.mark.parametrize("opt", ["-O1", "-O2", "-O3"])
def test_avx2_kernels_keep_their_write_prefetches_at_every_optimisation_level(opt, tmp_path):
    # GCC once deleted every row prefetch below -O3: prefetch_row, not inlined, looked like
    # a function without effects. (setup.py builds with -O3; a user's CFLAGS may not.)
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686"):
        pytest.skip("the AVX2 kernels are built on x86 only")
    asm = tmp_path / "avx2.s"
    cmd = compiler() + ["-std=gnu99", opt, f"-I{SRC}", "-S", str(SRC / "w2v_train_avx2.c"),
                        "-o", str(asm)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    text = asm.read_text()
    # one per row of each kind the kernels prefetch: the noise words', the centre word's
    # and the Huffman nodes' output rows, and the next input row (inlined in several
    # places, so at least that many)
    assert text.count("prefetchw") >= 4, text.count("prefetchw")

ROOT = SRC.parent
# build products and caches, which the source distribution must not depend on
_NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info",
                                      "__pycache__", ".pytest_cache", ".hypothesis",
                                      "demo_out", ".devcarry", "*.so", "*.c.orig")


def test_source_distribution_holds_what_builds_and_tests_the_package(tmp_path):
    # the sdist once lacked the headers that the C files include (pip install of it
    # failed to compile) and the tests' conftest.py. (Building the wheel from it takes a
    # minute and is left to the release: this checks the files and compiles the C.)
    tree = tmp_path / "tree"
    shutil.copytree(ROOT, tree, ignore=_NOT_SOURCES)
    for generated in (tree / "fastw2v").glob("_*.c"):
        generated.unlink()
    done = subprocess.run([sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path)],
                          cwd=tree, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    import tarfile
    (archive,) = tmp_path.glob("fastw2v-*.tar.gz")
    with tarfile.open(archive) as tar:
        # (the filter argument exists from Python 3.11.4 and 3.12)
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(tmp_path / "x", **safe)
    (unpacked,) = (tmp_path / "x").iterdir()
    shipped = {p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*") if p.is_file()}
    tracked = {p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()
               and p.parts[len(tree.parts)] in ("src_c", "tests", "bench", "fastw2v")
               and p.suffix in (".c", ".h", ".py", ".pyx", ".pxd", ".md", ".txt")}
    assert tracked - shipped == set()
    assert {"LICENSE", "Makefile", "README.md", "setup.py", "pyproject.toml"} <= shipped
    assert not [p for p in shipped if "__pycache__" in p or p.endswith((".so", ".pyc"))]
    # every C file compiles from the unpacked sdist alone
    src = unpacked / "src_c"
    for source in sorted(src.glob("*.c")):
        cmd = compiler() + ["-std=gnu99", "-fsyntax-only", f"-I{src}", str(source)]
        compiled = subprocess.run(cmd, capture_output=True, text=True)
        assert compiled.returncode == 0, compiled.stderr
