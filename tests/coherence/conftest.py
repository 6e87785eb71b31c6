"""Fixtures of the coherence tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def coherence_extra():
    """The ``coherence`` extra's lexicon; the test is skipped without the extra, except
    under CI=true (make test installs it), where it fails."""
    from judgeaudit.coherence import lexicon_available, load_lexicon

    if not lexicon_available():
        message = "the coherence extra is not installed: pip install 'judgeaudit[coherence]'"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return load_lexicon("required")
