"""The message checks' O(1) path for the usual text agrees with the full checks (sans-IO core)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierwise.calls.messages import _plainly_usable, normalize
from tierwise.errors import InvalidInputError
from tierwise.inputs import is_blank


@given(st.text())
def test_text_taken_on_the_short_path_passes_the_full_checks(text):
    if _plainly_usable(text):
        assert not is_blank(text)
        text.encode("utf-8")  # no lone surrogate


@pytest.mark.parametrize("bad", ["", "   ", "\u200b", "\x00", "ok\ud800"])
def test_blank_or_broken_messages_are_refused_wherever_they_are(bad):
    with pytest.raises(InvalidInputError, match="message 1"):
        normalize([("system", "You answer."), ("user", bad)])
