"""The transfer scenario alone: ``python -m benchmarks --only transfers``, with the former options.

    python -m benchmarks.transfer_command [--learners N] [--rounds N] [--batch-size N] [--workers N]

Kept for the operator guide's instructions; ``python -m benchmarks --help`` has every option.
"""

import argparse
import os
import sys


def main():
    parser = argparse.ArgumentParser(description="Speed and memory of the transfer_program_enrollments command.")
    parser.add_argument("--learners", type=int, default=100_000, help="learners to transfer (default 100000)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds, each on fresh learners (default 1)")
    parser.add_argument("--batch-size", type=int, help="the command's --batch-size (default: the command's)")
    parser.add_argument("--workers", type=int, help="the command's --workers (default: the command's)")
    args = parser.parse_args()
    from benchmarks.runner import main as run

    options = ["--only=transfers", f"--transfer-learners={args.learners}", f"--rounds={args.rounds}"]
    if args.batch_size:
        options.append(f"--transfer-option=--batch-size={args.batch_size}")
    if args.workers:
        options.append(f"--transfer-option=--workers={args.workers}")
    run(options)


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    main()
