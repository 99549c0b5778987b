#!/usr/bin/env python3
"""Former quality harness, kept so that old commands still run: bench/compare.py does it all.

Translates the old options and calls compare.py: ``--workers N`` becomes ``--threads N``,
system ``gensim`` becomes ``gensim-file`` (gensim's corpus_file mode), and the default
systems are ``gensim-file,gensim-iter,fastw2v``. Every other option is compare.py's.

    python bench/quality.py --corpus /work/shared/data/pd-encyc8.lines.gz --workers 2
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402


def translate(argv: list) -> list:
    out, systems, i = [], "gensim-file,gensim-iter,fastw2v", 0
    while i < len(argv):
        arg = argv[i]
        name, eq, val = arg.partition("=")
        if name in ("--workers", "--systems"):
            if not eq:
                i += 1
                val = argv[i] if i < len(argv) else ""
            if name == "--workers":
                out += ["--threads", val]
            else:
                systems = ",".join("gensim-file" if s.strip() == "gensim" else s.strip()
                                   for s in val.split(","))
        else:
            out.append(arg)
        i += 1
    return out + ["--systems", systems]


if __name__ == "__main__":
    sys.exit(compare.main(translate(sys.argv[1:])))
