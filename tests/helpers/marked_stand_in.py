"""The stand-in of GitHub as the tests use it: every secret it issues carries SECRET_MARKER.

Use:  from tests.helpers.marked_stand_in import SECRET_MARKER, LocalGitHub, Settings, play_browser
These are the package's own (stand_in), except that Settings defaults `secret_marker` to
SECRET_MARKER: every token, refresh token, code, device code and the client secret then carries
it, so a test that finds the marker in any output has found a leak. A reader's stand-in
(`python local_github.py`) carries no marker; tests/test_local_github.py checks that too.
Watch for: import LocalGitHub and Settings from here, never from stand_in, or the marker is gone
and tests/test_secrets_never_leak.py proves nothing. The demo builds its own stand-in from
stand_in.Settings: tests/conftest.py's `marked_demo` and tests/helpers/marked_tool.py put this
Settings there.
"""

from __future__ import annotations

from dataclasses import dataclass

import stand_in.server
import stand_in.settings
from stand_in import play_browser

SECRET_MARKER = "CANARY"  # a word no real secret, URL or message here contains

__all__ = ["SECRET_MARKER", "LocalGitHub", "Settings", "play_browser"]


# The module's classes, not the package's names: tests replace stand_in.Settings with this one.
@dataclass
class Settings(stand_in.settings.Settings):
    secret_marker: str = SECRET_MARKER


class LocalGitHub(stand_in.server.LocalGitHub):
    def __init__(self, settings: stand_in.settings.Settings | None = None, port: int = 0) -> None:
        super().__init__(settings or Settings(), port)
