"""Plays the browser for end-to-end tests: set BROWSER to `python tests/helpers/browser.py %s`.

Python's webbrowser module runs it with the authorization URL, exactly as it would run a real
browser. It follows the redirects, clicks the consent button (or Cancel when BROWSER_DECISION is
"cancel"), and writes the final page to BROWSER_PAGE_FILE when that is set.

BROWSER_BEHAVIOUR plays a browser command that webbrowser must wait for (w3m, lynx, a wrapper
script): "linger" signs in and then stays open, "hang" never does anything and never returns.
Both write their process id to BROWSER_PID_FILE first, and let go of the tool's output pipes so
that the tool's own exit is what the test sees.
"""

import os
import sys
import threading
from pathlib import Path

behaviour = os.environ.get("BROWSER_BEHAVIOUR", "")
if os.environ.get("BROWSER_PID_FILE"):
    Path(os.environ["BROWSER_PID_FILE"]).write_text(str(os.getpid()), encoding="utf-8")
if behaviour in ("linger", "hang"):
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)

if behaviour != "hang":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

    from stand_in import play_browser  # noqa: E402

    status, body = play_browser(sys.argv[1], decision=os.environ.get("BROWSER_DECISION", "authorize"))
    if os.environ.get("BROWSER_PAGE_FILE"):
        Path(os.environ["BROWSER_PAGE_FILE"]).write_text(f"{status}\n{body}", encoding="utf-8")

if behaviour in ("linger", "hang"):
    threading.Event().wait()  # open until the test closes it
