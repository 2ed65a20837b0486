"""The chapter's files, as modules the complete tool chains together, each loaded when first used.

Python cannot `import 1_authorization_url`: a module's name may not start with a digit. This is
the one place that loads the numbered files by name. It loads each chapter file the first time
that file is used, so that `--help` needs no HTTP library and `status` and `repos` never load step 2's
callback server or a browser:

    import chapter
    token = chapter.step2.sign_in_with_browser(config)
"""

from __future__ import annotations

import importlib
from types import ModuleType

# In the chapter's order.
CHAPTER_FILES = {
    "step1": "1_authorization_url",
    "step2": "2_callback_exchange",
    "device_flow": "device_flow",
    "step3": "3_github_request",
    "token_manager": "token_manager",
}


def __getattr__(name: str) -> ModuleType:
    """`chapter.step2` imports 2_callback_exchange.py on first use (PEP 562's module __getattr__)."""
    if name not in CHAPTER_FILES:
        raise AttributeError(f"the chapter has no {name!r}; its files are {', '.join(CHAPTER_FILES)}")
    return importlib.import_module(CHAPTER_FILES[name])
