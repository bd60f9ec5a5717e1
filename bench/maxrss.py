"""Run one command; print its exit status and its peak RSS (ru_maxrss, KB on Linux) as JSON.

    python bench/maxrss.py COMMAND [ARGS...]

The peak is read with getrusage(RUSAGE_CHILDREN) in this small wrapper process, so it is
the command's own peak (and that of any child it waited for), not the benchmark's.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys


def main() -> int:
    proc = subprocess.run(sys.argv[1:], check=False)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"returncode": proc.returncode, "maxrss_kb": usage.ru_maxrss}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
