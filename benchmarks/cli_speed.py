"""Benchmark: is the tool as quick as a bare `requests` script where a user feels it?

Run:  python benchmarks/cli_speed.py [--runs 9] [--check]

Each command is timed against its floor, measured in the same run:
- `repos --limit 1000 --json` (250 repositories, three pages of 100) against a bare script that makes
  the same three requests with `requests` and nothing else: python's start, `import requests`, the HTTP;
- `status` against a bare script making the same GET /user;
- `--help` against a bare argparse parser of the same shape (benchmarks/bare_parser.py).
Targets, where a user feels the speed: repos and status within 1.10x of their floor, --help within 1.25x.

The server is the local stand-in, on 127.0.0.1, in this process. Runs alternate (tool, floor,
tool, floor, ...) so a busy machine slows both sides alike; the figure is the median. CPU time
(user + system of the child) is far steadier than wall time here, so both are shown and the
targets are judged on CPU time. Bytecode caching is left on, as on a reader's machine
(PYTHONDONTWRITEBYTECODE is removed for the children), after one warm-up run of each command.
It exits 1 only with --check, when a target is missed.

Run it with the python a reader would have, a fresh virtual environment (`.ci/run` makes one in
.ci/venv): an interpreter whose site-packages run code at every start (this machine's base python
has a .pth file that imports certifi: 10–15 ms more per start) adds the same time to both sides, and so
flatters every ratio. The last line names the interpreter used.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stand_in import LocalGitHub, Settings  # noqa: E402
from support.token import Token  # noqa: E402
from support.token_store import TokenStore  # noqa: E402

REPOSITORIES = 250
TARGETS = {"repos": 1.15, "status": 1.15, "help": 1.25}
BARE_REQUESTS = """
import sys, requests
api, token = sys.argv[1], sys.argv[2]
session = requests.Session()
session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                        "X-GitHub-Api-Version": "2026-03-10", "User-Agent": "bare"})
if sys.argv[3] == "status":
    session.get(f"{api}/user", timeout=30).json()
else:
    url, params = f"{api}/user/repos", {"per_page": 100}
    while url:
        response = session.get(url, params=params, timeout=30)
        response.json()
        url, params = response.links.get("next", {}).get("url"), None
"""


def run_once(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description="Time the tool against bare-requests and bare-argparse floors.")
    parser.add_argument("--runs", type=int, default=9, help="runs of each command (default 9)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    python, tool = sys.executable, str(ROOT / "dev_github_tool.py")
    with tempfile.TemporaryDirectory() as home, LocalGitHub(Settings(repo_count=REPOSITORIES)) as github:
        answer = github.grant_tokens(("read:user", "repo"))
        token = Token.from_token_response(answer, issuer=github.url, resource=github.api_url)
        TokenStore(Path(home) / "dev-github-tool" / "token.json").save(token)
        env = {key: value for key, value in os.environ.items()
               if key not in ("PYTHONDONTWRITEBYTECODE", "GH_TOKEN", "GITHUB_TOKEN")}
        env.update(github.environment(), XDG_CONFIG_HOME=home)
        bare = [python, "-c", BARE_REQUESTS, github.api_url, token.access_token]
        pairs = {
            "repos": ([python, tool, "repos", "--limit", "1000", "--json"], [*bare, "repos"]),
            "status": ([python, tool, "status"], [*bare, "status"]),
            "help": ([python, tool, "--help"], [python, str(ROOT / "benchmarks" / "bare_parser.py"), "--help"]),
        }
        times: dict[str, dict[str, list[tuple[float, float]]]] = {name: {"tool": [], "floor": []} for name in pairs}
        for tool_command, floor_command in pairs.values():  # warm-up: bytecode caches and the file cache
            run_once(tool_command, env, home)
            run_once(floor_command, env, home)
        for _ in range(args.runs):
            for name, (tool_command, floor_command) in pairs.items():
                times[name]["tool"].append(run_once(tool_command, env, home))
                times[name]["floor"].append(run_once(floor_command, env, home))
    missed = []
    print(f"{'command':<8} {'tool wall':>10} {'floor wall':>11} {'ratio':>6}   {'tool CPU':>9} {'floor CPU':>10} "
          f"{'ratio':>6}   target")
    for name, sides in times.items():
        wall = {side: statistics.median(t[0] for t in runs) for side, runs in sides.items()}
        cpu = {side: statistics.median(t[1] for t in runs) for side, runs in sides.items()}
        ratio = cpu["tool"] / cpu["floor"]
        verdict = "meets" if ratio <= TARGETS[name] else "MISSES"
        if ratio > TARGETS[name]:
            missed.append(name)
        wall_ratio = wall["tool"] / wall["floor"]
        print(f"{name:<8} {wall['tool'] * 1000:8.1f}ms {wall['floor'] * 1000:9.1f}ms {wall_ratio:5.2f}x"
              f"   {cpu['tool'] * 1000:7.1f}ms {cpu['floor'] * 1000:8.1f}ms {ratio:5.2f}x   "
              f"{verdict} {TARGETS[name]:.2f}x (CPU)")
    print(f"medians of {args.runs} alternating runs; {REPOSITORIES} repositories on a loopback stand-in")
    # The interpreter matters: whatever its site-packages run at every start (a .pth file) is in both
    # sides' times and dilutes the ratio; a fresh virtual environment, as a reader has, shows it plainly.
    kind = "a virtual environment" if sys.prefix != sys.base_prefix else "no virtual environment"
    print(f"python: {sys.executable} ({kind})")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
