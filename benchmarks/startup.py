"""Benchmark: how fast the tool starts, and how long the offline demo takes end to end.

Run:  python benchmarks/startup.py [--runs 40]
Target (issue "dev_github_tool.py — the complete tool"): `python dev_github_tool.py --help` within
1.3x the time of `python -c pass` on the same machine. It compares medians of interleaved runs, so
a busy machine slows both sides alike. Exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.3


def seconds(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--demo-runs", type=int, default=3)
    args = parser.parse_args()
    python = sys.executable
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "dev_github_tool.py --help": [python, str(ROOT / "dev_github_tool.py"), "--help"],
        "import requests, dotenv": [python, "-c", "import requests, dotenv"],
    }
    timings: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as cwd:
        for command in commands.values():  # warm the file cache once
            seconds(command, Path(cwd))
        for _ in range(args.runs):
            for name, command in commands.items():
                timings[name].append(seconds(command, Path(cwd)))
        demo = [seconds([python, str(ROOT / "dev_github_tool.py"), "demo"], Path(cwd)) for _ in range(args.demo_runs)]
    baseline = statistics.median(timings["python -c pass"])
    for name, values in timings.items():
        median = statistics.median(values)
        print(f"{name:<28} median {median * 1000:7.1f} ms   {median / baseline:4.2f}x python -c pass")
    print(f"{'dev_github_tool.py demo':<28} median {statistics.median(demo) * 1000:7.1f} ms   (end to end, offline)")
    ratio = statistics.median(timings["dev_github_tool.py --help"]) / baseline
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"--help is {ratio:.2f}x an empty interpreter: {verdict} the {TARGET_RATIO}x target ({args.runs} runs each)")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
