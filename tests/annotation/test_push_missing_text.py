"""A sampled item without prompt text is judgeaudit's error before any request (it was Label
Studio's bare ``HTTP 400 ... data['prompt']=None``)."""

from __future__ import annotations

import pandas as pd
import pytest

from annotation.labelconfig import default_schema
from annotation.push import push_items
from judgeaudit.errors import ValidationError


class _NoServer:
    def __getattr__(self, name):  # any request would be a failure of the check
        raise AssertionError(f"the client was used ({name}) before the items were checked")


@pytest.mark.parametrize("column, hint", [("prompt", "--prompts"), ("response", "")])
def test_missing_text_is_a_validation_error_naming_item_row_and_column(column, hint):
    items = pd.DataFrame({"item_id": ["a", "b"], "prompt": ["p1", "p2"], "response": ["r1", "r2"]})
    items.loc[1, column] = None
    with pytest.raises(ValidationError) as info:
        push_items(_NoServer(), items, project="x", schema=default_schema())
    text = str(info.value)
    assert f"item 'b' has no {column} text" in text and hint in text
    assert info.value.row == 2 and info.value.column == column
