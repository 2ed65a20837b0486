"""The HTTP library, or one line that says how to get it: every module that makes a request imports it from here.

A fresh checkout has no `requests` until `pip install -r requirements.txt`; then the one line
below, not a traceback, is what a reader sees.
"""

try:
    import requests
except ModuleNotFoundError as missing:
    raise SystemExit(f"{missing.name} is not installed — activate your virtual environment (. .venv/bin/activate), "
                     "or run: pip install -r requirements.txt") from None

__all__ = ["requests"]
