"""Subcommands of the ``judgeaudit`` CLI, one module each (``generate``, ``judge``, ...).

Every public module here has ``register(subparsers)``, which adds its parser and sets
``handler=fn(args) -> int`` as a parser default; :func:`judgeaudit.cli.build_parser`
finds them with :mod:`pkgutil`, so adding a command never edits ``cli.py``.  Keep the
imports of heavy libraries inside the handlers: ``judgeaudit --help`` must stay light.
"""
