"""dev_github_tool.py in a process of its own, with the demo's stand-in carrying the test marker.

Run:  python tests/helpers/marked_tool.py [dev_github_tool.py's arguments]
The demo builds its stand-in from stand_in.Settings, which gives a reader plain secrets; this puts
tests/helpers/marked_stand_in.py's Settings in its place first, so that a leak from the demo shows
as the marker even where only a process of its own will do (--debug sets up logging for the whole
process). Watch for: every other command runs exactly as dev_github_tool.py runs it.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import stand_in  # noqa: E402
from tests.helpers.marked_stand_in import Settings  # noqa: E402

stand_in.Settings = Settings  # what support/demo.py looks up when it starts its stand-in

from dev_github_tool import main  # noqa: E402

sys.exit(main())
