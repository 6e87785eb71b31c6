"""The ``judgeaudit`` command: a thin layer over the library.

Results go to stdout (``--json`` for machine-readable output); progress and logs go
to stderr.  Every error the library raises on purpose is printed as one line
(``judgeaudit: error: ...``) with exit status 2: control characters escaped, secrets
redacted (:func:`judgeaudit.errors.redact`) and at most
:data:`~judgeaudit.errors.MAX_MESSAGE_CHARS` characters.
"""

from __future__ import annotations

import argparse
import sys

from .errors import MAX_MESSAGE_CHARS, ConfigError, JudgeAuditError, one_line

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one ``judgeaudit: error:`` line (exit status 2)."""

    def error(self, message):
        self.exit(2, f"judgeaudit: error: {self.prog}: {one_line(message, 400)} "
                     f"(see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="judgeaudit",
        description="Audit automated LLM safety judges against human labels, stratified by "
                    "coherence, and run the loop that produces what is audited: finetune, "
                    "generate, judge, coherence, annotate.")
    parser.add_argument("--version", action="version", version=f"judgeaudit {_version()}")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="CPU threads for torch and BLAS (default: $JUDGEAUDIT_THREADS, else half the "
                             "cores; on a busy machine more threads only contend)")
    sub = parser.add_subparsers(dest="command", required=True)

    _register_commands(sub)
    return parser


def _register_commands(sub) -> None:
    """Add the subcommands that live outside this file.

    Each module in :mod:`judgeaudit.commands` and each ``judgeaudit.commands`` entry point
    (``annotate`` and ``finetune`` come from the ``annotation`` and ``finetune`` packages,
    which judgeaudit itself never imports) has ``register(subparsers)``: it adds its parser
    and sets ``handler=fn(args) -> int`` as a default.
    """
    import importlib
    import pkgutil
    from importlib.metadata import entry_points

    from . import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
    for ep in sorted(entry_points(group="judgeaudit.commands"), key=lambda e: e.name):
        try:
            register = ep.load()
        except ImportError as exc:  # installed without that part: say so when it is used
            _unavailable(sub, ep.name, str(exc))
            continue
        register(sub)


def _unavailable(sub, name: str, why: str) -> None:
    def handler(args):
        raise ConfigError(f"the {name!r} command cannot load ({why}); reinstall judgeaudit from a "
                          "checkout with: pip install -e '.[annotation,finetune]'")

    p = sub.add_parser(name, help=f"(unavailable: {why})", add_help=False)
    p.add_argument("rest", nargs="*")
    p.set_defaults(handler=handler)


def _version() -> str:
    from .runinfo import package_version

    return package_version()


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from .threads import set_threads

        set_threads(args.threads)
        handler = getattr(args, "handler", None)
        if handler is not None:
            return int(handler(args) or 0)
        parser.print_help(sys.stderr)
        return 2
    except JudgeAuditError as exc:
        prefix = "judgeaudit: error: "
        print(prefix + one_line(exc, MAX_MESSAGE_CHARS - len(prefix)), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("judgeaudit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (e.g. `judgeaudit ... | head`): not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
