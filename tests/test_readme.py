"""The README's sample output is what the code prints today.

Every fenced block after a `<!-- sample: SCRIPT -->` line is run against the stand-in, in the
README's order, and the output must have the same shape: the same lines, with tokens, hosts,
ports, paths and the authorization URL's random parts made alike. A `...` line in the README
stands for any number of lines.
"""

import re

from tests.conftest import ROOT

SAMPLE = re.compile(r"<!-- sample: (\S+) -->\n```\n(.*?)\n```", re.S)
SHAPES = (
    (re.compile(r"https?://(github\.com|127\.0\.0\.1:\d+)/login/oauth/authorize\?\S*"), "AUTHORIZATION_URL"),
    (re.compile(r"gho_…\w{4}"), "TOKEN"),
    (re.compile(r"(/[\w.-]+)+/token\.json"), "TOKEN_FILE"),
    (re.compile(r"(/[\w.-]+)+/\.env"), "ENV_FILE"),
    (re.compile(r"client_id=[\w…]+"), "client_id=CLIENT_ID"),
    (re.compile(r"https?://(github\.com|127\.0\.0\.1:\d+)"), "SERVER"),
    (re.compile(r"\b(github\.com|127\.0\.0\.1:\d+)"), "HOST"),
)


def shape(line: str) -> str:
    for pattern, placeholder in SHAPES:
        line = pattern.sub(placeholder, line)
    return line.rstrip()


def assert_same_shape(shown: list[str], printed: list[str], command: str) -> None:
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
        assert got == wanted, f"README shows for {command}:\n  {wanted}\nbut it prints:\n  {got}"
        position += 1
    if not skipping:
        assert printed[position:] == [], f"{command} prints more than the README shows: {printed[position:]}"


def output(result) -> list[str]:
    return (result.stdout + result.stderr).splitlines()


def test_every_sample_in_the_readme_is_what_the_code_prints(cli, github, token_path):
    (cli.runner.cwd / ".env").write_text("GITHUB_SCOPES=read:user\n")  # the README's status names its .env
    cli.point_at(github)
    samples = SAMPLE.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert [script for script, _ in samples] == ["1_authorization_url.py", "2_callback_exchange.py",
                                                 "3_github_request.py", "token_manager.py", "dev_github_tool.py"]
    for script, block in samples:
        if script != "dev_github_tool.py":
            assert_same_shape(block.splitlines(), output(cli.script(script)), script)
            continue
        token_path.unlink()  # the complete tool's sample starts with a fresh login
        for session in block.split("$ python dev_github_tool.py ")[1:]:
            command, *shown = session.splitlines()
            result = cli.run(*command.split())
            assert result.returncode == 0, result.stderr
            assert_same_shape(shown, output(result), f"dev_github_tool.py {command}")
