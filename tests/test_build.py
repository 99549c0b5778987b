"""The C kernels also build where the AVX2 variant is not compiled in: arm64 and every
other non-x86 machine, or any build with -DW2V_NO_AVX2 (which this test uses to stand in
for them). A header that only parses on x86 once broke those builds unnoticed."""
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
#include "w2v_train.h"

int main(void)
{
    static w2v_model m;
    if (w2v_simd_supported(W2V_SIMD_AVX2)) return 10;
    if (w2v_model_init(&m, W2V_SIMD_AVX2) != -1) return 11;
    if (w2v_model_init(&m, W2V_SIMD_AUTO) != 0) return 12;
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
