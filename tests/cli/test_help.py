"""Every command's --help reads as written: no stray format codes."""

from __future__ import annotations

import argparse

from judgeaudit.cli import build_parser


def _helps(parser, name):
    yield name, parser.format_help()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from _helps(child, f"{name} {sub}")


def test_no_help_shows_a_doubled_percent_or_a_format_code():
    # argparse %-formats the help of options but not a parser's description: "95%%" there is printed as is
    helps = dict(_helps(build_parser(), "judgeaudit"))
    assert {"judgeaudit persona", "judgeaudit audit", "judgeaudit organism label"} <= set(helps)
    bad = {name: [line for line in text.splitlines() if "%%" in line or "%(" in line]
           for name, text in helps.items() if "%%" in text or "%(" in text}
    assert not bad
