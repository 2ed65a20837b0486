"""Shared fixtures: the chapter's modules, a running local GitHub, and a way to run scripts as a reader does."""

from __future__ import annotations

import importlib
import os
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import chapter  # noqa: E402
import stand_in  # noqa: E402
import support.loopback  # noqa: E402
from support.token import Token  # noqa: E402
from tests.helpers.marked_stand_in import LocalGitHub, Settings  # noqa: E402
from tests.helpers import STATE  # noqa: E402

BROWSER_HELPER = ROOT / "tests" / "helpers" / "browser.py"
# Variables a reader's shell may have that would change what the scripts do.
LEAKY_VARIABLES = ("GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN",
                   "GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET", "GITHUB_SCOPES", "GITHUB_REDIRECT_URI",
                   "GITHUB_SERVER_URL", "GITHUB_API_URL", "BROWSER")


@pytest.fixture(scope="session")
def step1():
    return chapter.step1


@pytest.fixture(scope="session")
def step2():
    return chapter.step2


@pytest.fixture(scope="session")
def step3():
    return chapter.step3


@pytest.fixture(scope="session")
def tool():
    return importlib.import_module("dev_github_tool")


@pytest.fixture
def github():
    """A local GitHub that approves at once, as a user who clicks Authorize would."""
    with LocalGitHub(Settings(approval="auto")) as server:
        yield server


@pytest.fixture
def expiring_github():
    """A local GitHub that issues expiring tokens with rotating refresh tokens (GitHub App style)."""
    with LocalGitHub(Settings(approval="auto", expiring=True)) as server:
        yield server


@pytest.fixture(params=("github", "strict", "authlib"))
def oauth_server(request):
    """Each test that takes this runs three times, against: the stand-in, as lenient as github.com;
    its strict mode, which holds clients to RFC 6749/7636 as Gitea does; and Authlib, a server
    nobody here wrote. All three issue expiring tokens with rotating refresh tokens."""
    if request.param == "authlib":
        from tests.helpers.authlib_server import AuthlibGitHub

        with AuthlibGitHub() as server:
            yield server
    else:
        with LocalGitHub(Settings(approval="auto", expiring=True, strict=request.param == "strict")) as server:
            yield server


@pytest.fixture
def waiting_server(step1, step2):
    """A callback server waiting for STATE; `finish` records each code it is handed."""
    config = step1.load_config(env={"GITHUB_CLIENT_ID": "Ov23liExample", "GITHUB_CLIENT_SECRET": "x"})
    server = step2.CallbackServer(config.redirect)
    exchanged = []
    server.expect(STATE, lambda result: exchanged.append(result.code) or Token(access_token="gho_fake_zz"))
    server.start()
    yield server, exchanged
    server.close()


@pytest.fixture
def config_for(step1):
    def make(server: LocalGitHub, **overrides: str):
        return step1.load_config(env={**server.environment(), **overrides})

    return make


@pytest.fixture(autouse=True)
def marked_demo(monkeypatch):
    """The demo's own stand-in carries the test marker too: support/demo.py builds it from stand_in.Settings,
    which gives a reader plain secrets. (In a process of its own: tests/helpers/marked_tool.py.)"""
    monkeypatch.setattr(stand_in, "Settings", Settings)


@pytest.fixture(autouse=True)
def quick_callback_server_shutdown(monkeypatch):
    """The callback server (support/loopback.py) looks for a shutdown between polls: every 0.05 s, which costs a person
    nothing. The tests end some hundreds of logins in-process, so here it looks every 0.005 s."""
    monkeypatch.setattr(support.loopback, "SHUTDOWN_POLL_SECONDS", 0.005)


@pytest.fixture(autouse=True)
def no_pause_between_polls(request, monkeypatch):
    """The device flow waits at least a second between polls, whatever a server says; the stand-ins
    here ask for no pause (Settings.device_interval=0), so the tool's own wait is the one replaced.
    A test that sets its own `device_flow.pause` (a recorder, a clock) replaces this one."""
    if "real_pause" not in request.keywords:
        monkeypatch.setattr(chapter.device_flow, "pause", lambda seconds: None)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Every test gets its own config folder, and no token or setting from the developer's shell."""
    for name in LEAKY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)  # no .env from the repository is picked up


@pytest.fixture
def token_path(tmp_path) -> Path:
    return tmp_path / "config" / "dev-github-tool" / "token.json"


def browser_command() -> str:
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(BROWSER_HELPER))} %s"


class ScriptRunner:
    """Runs a project script as a subprocess, as a reader would, in a clean environment."""

    def __init__(self, tmp_path: Path) -> None:
        # PYTHONUNBUFFERED goes too: CI may not set it, and a reader's shell usually does not. So does
        # PYTHONDONTWRITEBYTECODE: a reader's Python caches compiled modules (__pycache__ is
        # git-ignored), and compiling every step again in each of a hundred runs costs seconds.
        self.env = {key: value for key, value in os.environ.items()
                    if key not in LEAKY_VARIABLES and key not in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")}
        self.env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), BROWSER=browser_command(),
                        BROWSER_PAGE_FILE=str(tmp_path / "browser-page.html"))
        self.cwd = tmp_path
        self.started: list[subprocess.Popen] = []

    def point_at(self, server: LocalGitHub) -> ScriptRunner:
        self.env.update(server.environment())
        return self

    def run(self, script: str, *args: str, extra_env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / script), *args], cwd=self.cwd,
                              env={**self.env, **(extra_env or {})}, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def start(self, script: str, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start a script in a process group of its own (its browser joins it, so `stop_group` ends
        both), with Ctrl-C working even when pytest runs as a background job, which ignores SIGINT
        and would pass that on."""
        process = subprocess.Popen([sys.executable, str(ROOT / script), *args], cwd=self.cwd,
                                   env={**self.env, **(extra_env or {})}, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.started.append(process)
        return process

    def stop_groups(self) -> None:
        for process in self.started:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.communicate()


class InProcessTool:
    """Runs `dev_github_tool.main(argv)` in this process, as a reader's shell would run the script:
    the runner's environment and folder, the output captured, the exit code returned as a
    CompletedProcess. About a tenth of a second quicker than a subprocess, so it is the default;
    a subprocess stays for what only one shows (the BROWSER round trip, signals, --debug logging,
    what gets imported, several processes at once).

    The browser is played in-process too: step 2's `open_in_browser` follows the redirects and
    clicks the consent button (or Cancel, with BROWSER_DECISION=cancel), writes the last page to
    browser-page.html as tests/helpers/browser.py does, and `run` waits until it has.
    """

    def __init__(self, runner: ScriptRunner, monkeypatch, capsys) -> None:
        self.runner = runner
        self.capsys = capsys
        self.browsers: list[threading.Event] = []
        monkeypatch.setattr(chapter.step2, "open_in_browser", self.play_the_browser)

    def point_at(self, server) -> InProcessTool:
        self.runner.point_at(server)
        return self

    def play_the_browser(self, url: str) -> bool:
        from stand_in import play_browser

        done = threading.Event()
        self.browsers.append(done)
        try:
            status, body = play_browser(url, decision=os.environ.get("BROWSER_DECISION", "authorize"))
            Path(os.environ["BROWSER_PAGE_FILE"]).write_text(f"{status}\n{body}", encoding="utf-8")
        finally:
            done.set()
        return True

    def run(self, *argv: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return self.script("dev_github_tool.py", *argv, extra_env=extra_env)

    def script(self, name: str, *argv: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Any of the chapter's scripts (`1_authorization_url.py`, ...) by its `main(argv)`."""
        module = importlib.import_module(name.removesuffix(".py"))
        saved_environment, saved_folder = dict(os.environ), os.getcwd()
        os.environ.clear()
        os.environ.update({**self.runner.env, **(extra_env or {})})
        os.chdir(self.runner.cwd)
        self.capsys.readouterr()
        try:
            code = module.main(list(argv))
        except SystemExit as exit:  # argparse: --help, --version and usage errors
            code = exit.code
        finally:
            for browser in self.browsers:
                assert browser.wait(30), "the browser never finished"
            self.browsers.clear()
            os.environ.clear()
            os.environ.update(saved_environment)
            os.chdir(saved_folder)
        output = self.capsys.readouterr()
        return subprocess.CompletedProcess(list(argv), code, output.out, output.err)


@pytest.fixture
def cli(runner, monkeypatch, capsys) -> InProcessTool:
    return InProcessTool(runner, monkeypatch, capsys)


@pytest.fixture
def runner(tmp_path) -> ScriptRunner:
    runner = ScriptRunner(tmp_path)
    yield runner
    runner.stop_groups()
