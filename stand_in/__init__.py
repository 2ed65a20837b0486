"""A local stand-in of GitHub: its OAuth endpoints and the slice of the REST API the chapter uses.

Use:  from stand_in import LocalGitHub, Settings, play_browser
      with LocalGitHub(Settings(approval="auto")) as github: ...  # github.url, github.environment()
A reader runs it with `python local_github.py`. Its modules import in one direction: settings,
oauth, device, rest_api, server, cli. Watch for: it copies github.com's quirks on purpose.
"""

from stand_in.server import LocalGitHub, play_browser
from stand_in.settings import (DEFAULT_PORT, DEMO_CALLBACK_URL, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Counters,
                               Settings)

__all__ = ["DEFAULT_PORT", "DEMO_CALLBACK_URL", "DEMO_CLIENT_ID", "DEMO_CLIENT_SECRET", "Counters", "LocalGitHub",
           "Settings", "play_browser"]
