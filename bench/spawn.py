#!/usr/bin/env python3
"""Run one command and write its time span, CPU time and peak memory as JSON.

    python bench/spawn.py RESULT.json CMD [ARG ...]

compare.py starts every system through this small process rather than directly. On
Linux a process inherits, when it executes its program, the peak RSS of the address
space it replaces: started from compare.py (which by then has held and scored other
systems' vectors, some 400 MB), even `/bin/true` reports compare.py's peak. Started from
here, a system reports the larger of its own peak and this process's (a few MB, given as
`floor_mb`). The command inherits stdin, stdout, stderr and the environment.
"""
import json
import os
import subprocess
import sys
import time


def own_peak_mb() -> float:
    """This process's peak RSS since it started its program (VmHWM), in MB; NaN where
    there is no /proc (macOS, BSD: where ru_maxrss is also in other units)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def main(argv) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    result, cmd = argv[0], argv[1:]
    floor = own_peak_mb()      # what the command inherits (it grows no more before then)
    t_launch = time.monotonic()
    try:
        child = subprocess.Popen(cmd)
    except OSError as e:
        print(f"spawn.py: cannot start {cmd[0]!r}: {e}", file=sys.stderr)
        return 127
    _, status, usage = os.wait4(child.pid, 0)
    t_exit = time.monotonic()
    with open(result, "w") as f:
        json.dump(dict(t_launch=t_launch, t_exit=t_exit, rc=os.waitstatus_to_exitcode(status),
                       cpu_s=usage.ru_utime + usage.ru_stime,
                       peak_rss_mb=usage.ru_maxrss / 1024.0, floor_mb=floor), f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
