"""Plays the browser for end-to-end tests: set BROWSER to `python tests/helpers/browser.py %s`.

Python's webbrowser module runs it with the authorization URL, exactly as it would run a real
browser. It follows the redirects, clicks the consent button (or Cancel when BROWSER_DECISION is
"cancel"), and writes the final page to BROWSER_PAGE_FILE when that is set.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from local_github import play_browser  # noqa: E402

status, body = play_browser(sys.argv[1], decision=os.environ.get("BROWSER_DECISION", "authorize"))
if os.environ.get("BROWSER_PAGE_FILE"):
    Path(os.environ["BROWSER_PAGE_FILE"]).write_text(f"{status}\n{body}", encoding="utf-8")
