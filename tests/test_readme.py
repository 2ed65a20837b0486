"""The sample output in README.md and docs/*.md is what the code prints today.

A sample is the fenced block right after a `<!-- sample: SCRIPT -->` line. The block is either
- what `python SCRIPT` prints, or
- a terminal: each `$ python NAME ARGS` line is a command, followed by what it prints (SCRIPT is
  one of those commands).

Each document's samples run in the document's order, as a reader runs them, against the local
stand-in, with a token folder of their own. `$ python local_github.py ARGS` (re)starts the
stand-in: what it prints is checked against the launcher's banner, and the samples after it run
against a stand-in with those options. Here the stand-in approves by itself, where the reader
clicks Authorize or types the device code at /login/device, and device-flow polls do not pause.

Output is compared by shape: the same lines, with tokens, hosts, ports, paths, the device flow's
user code and the authorization URL's random parts made alike. A `...` line stands for any
number of lines. Every command must exit 0, except that `<!-- sample: SCRIPT exits N -->` expects
N from the block's last command. The samples come from the stand-in, so they show its host
(127.0.0.1:8765) and never github.com.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from stand_in.server import LocalGitHub
from stand_in.settings import Settings
from tests.conftest import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SAMPLE = re.compile(r"<!-- sample: (\S+)(?: exits (\d+))? -->\n```\n(.*?)\n```", re.S)
PROMPT = "$ python "
STAND_IN = "local_github.py"
STAND_IN_HOST = "127.0.0.1:8765"  # where `python local_github.py` listens unless told otherwise
# The reader's path through the chapter, as the README's samples walk it.
README_PATH = ["local_github.py", "1_authorization_url.py", "2_callback_exchange.py", "device_flow.py",
               "3_github_request.py", "local_github.py", "token_manager.py", "dev_github_tool.py"]
SHAPES = (
    (re.compile(r"https?://(github\.com|127\.0\.0\.1:\d+)/login/oauth/authorize\?\S*"), "AUTHORIZATION_URL"),
    (re.compile(r"gho_…\w{4}"), "TOKEN"),
    (re.compile(r"(/[\w.-]+)+/token\.json"), "TOKEN_FILE"),
    (re.compile(r"(/[\w.-]+)+/\.env"), "ENV_FILE"),
    (re.compile(r"client_id=[\w…]+"), "client_id=CLIENT_ID"),
    (re.compile(r"\b[A-Z]{4}-[A-Z]{4}\b"), "USER_CODE"),
    (re.compile(r"https?://(github\.com|127\.0\.0\.1:\d+)"), "SERVER"),
    (re.compile(r"\b(github\.com|127\.0\.0\.1:\d+)"), "HOST"),
)


class Command(NamedTuple):
    script: str
    args: list[str]
    shown: list[str]  # the lines the document shows it printing


class Sample(NamedTuple):
    script: str
    last_exit: int
    commands: list[Command]
    block: str


def samples_in(document: Path) -> list[Sample]:
    samples = []
    for script, exits, block in SAMPLE.findall(document.read_text(encoding="utf-8")):
        lines = block.splitlines()
        if not lines or not lines[0].startswith("$ "):
            samples.append(Sample(script, int(exits or 0), [Command(script, [], lines)], block))
            continue
        commands: list[Command] = []
        for line in lines:
            if line.startswith("$ "):
                assert line.startswith(PROMPT), f"{document.name}: a sample runs the project's scripts: {line}"
                name, *args = shlex.split(line[len(PROMPT):])
                commands.append(Command(name, args, []))
            else:
                commands[-1].shown.append(line)
        assert script in [command.script for command in commands], \
            f"{document.name}: the sample of {script} never runs it"
        samples.append(Sample(script, int(exits or 0), commands, block))
    return samples


def shape(line: str) -> str:
    for pattern, placeholder in SHAPES:
        line = pattern.sub(placeholder, line)
    return line.rstrip()


def assert_same_shape(shown: list[str], printed: list[str], where: str) -> None:
    printed = [shape(line) for line in printed]
    position, skipping = 0, False
    for line in shown:
        if line.strip() in ("...", "…"):
            skipping = True
            continue
        wanted = shape(line)
        if skipping:
            while position < len(printed) and printed[position] != wanted:
                position += 1
            skipping = False
        got = printed[position] if position < len(printed) else "(nothing more)"
        assert got == wanted, f"{where} shows:\n  {wanted}\nbut it prints:\n  {got}"
        position += 1
    if not skipping:
        assert printed[position:] == [], f"{where}: the command prints more than shown: {printed[position:]}"


def output(result) -> list[str]:
    return (result.stdout + result.stderr).splitlines()


def stand_in_settings(args: list[str]) -> Settings:
    """The stand-in that `python local_github.py ARGS` runs, approving by itself and without pauses."""
    options: dict[str, object] = {"approval": "auto", "device_interval": 0}
    words = iter(args)
    for word in words:
        if word == "--expiring":
            options["expiring"] = True
        elif word == "--strict":
            options["strict"] = True
        elif word == "--repos":
            options["repo_count"] = int(next(words))
        elif word != "--auto-approve":
            pytest.fail(f"tests/test_readme.py does not know the stand-in's option {word}: teach stand_in_settings")
    return Settings(**options)


def stand_in_banner(runner, args: list[str]) -> list[str]:
    """What `python local_github.py ARGS` prints once it listens (here on a free port, not 8765)."""
    process = subprocess.Popen([sys.executable, str(ROOT / STAND_IN), *args, "--port", "0"], cwd=runner.cwd,
                               env=runner.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        first = process.stdout.readline()  # the banner is flushed whole, once the server listens
    finally:
        process.kill()
    with process.stdout:
        rest = process.stdout.read()  # not communicate(timeout=…): it would skip what readline buffered
    process.wait()
    return (first + rest).splitlines()


def walk(document: Path, cli) -> None:
    """Run the document's samples in order and compare what each command prints with what it shows."""
    server = LocalGitHub(stand_in_settings([])).start()
    try:
        cli.point_at(server)
        for sample in samples_in(document):
            for number, command in enumerate(sample.commands, 1):
                where = f"{document.relative_to(ROOT)}, python {shlex.join([command.script, *command.args])}"
                if command.script == STAND_IN:
                    # A restart, as the reader's: on the same port, and every token forgotten.
                    assert_same_shape(command.shown, stand_in_banner(cli.runner, command.args), where)
                    port = server.port
                    server.stop()
                    server = LocalGitHub(stand_in_settings(command.args), port=port).start()
                    cli.point_at(server)
                    continue
                result = cli.script(command.script, *command.args)
                expected = sample.last_exit if number == len(sample.commands) else 0
                assert result.returncode == expected, f"{where} exits {result.returncode}, not {expected}:\n" \
                                                      f"{result.stdout}{result.stderr}"
                assert_same_shape(command.shown, output(result), where)
    finally:
        server.stop()


def test_the_readme_walks_the_chapter_in_order():
    assert [sample.script for sample in samples_in(ROOT / "README.md")] == README_PATH


@pytest.mark.parametrize("document", [document for document in DOCUMENTS if samples_in(document)],
                         ids=lambda document: document.relative_to(ROOT).as_posix())
def test_every_sample_is_what_the_code_prints(document, cli):
    walk(document, cli)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.relative_to(ROOT).as_posix())
def test_samples_show_the_stand_ins_host_never_github_com(document):
    for sample in samples_in(document):
        assert "github.com" not in sample.block, \
            f"{document.name}, sample of {sample.script} shows github.com: it runs on the stand-in, {STAND_IN_HOST}"
        for host in re.findall(r"127\.0\.0\.1:\d+", sample.block):
            assert host == STAND_IN_HOST, f"{document.name}, sample of {sample.script} shows {host}"
