"""``python -m benchmarks``: the benchmark runner (``benchmarks.runner``)."""

import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    from benchmarks.runner import main

    main()
