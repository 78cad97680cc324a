"""The command line's argparse parsers, built from the options of :mod:`.options`: the whole parser
(:func:`build_parser`: help, errors) and one subcommand's parser alone (:func:`command_parser`)."""
from __future__ import annotations

import argparse
from functools import lru_cache

from inference_arithmetic.cli.args import UsageError
from inference_arithmetic.cli.options import COMMANDS, Exclusive, options

__all__ = ["Parser", "add_options", "build_parser", "command_parser", "PROG"]

PROG = "inference-arithmetic"


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and no prefix matching (``--attn`` is never ``--attn-dtype``)."""

    def __init__(self, *a, **kw):
        kw["allow_abbrev"] = False
        super().__init__(*a, **kw)

    def error(self, message):  # one line, exit 2
        raise UsageError(message)


def add_options(parser: argparse.ArgumentParser, specs) -> argparse.ArgumentParser:
    """Add the :class:`.options.Opt` and :class:`.options.Exclusive` ``specs`` to ``parser`` in order."""
    for s in specs:
        if isinstance(s, Exclusive):
            group = parser.add_mutually_exclusive_group(required=s.required)
            for o in s.opts:
                group.add_argument(*o.flags, **o.kw)
        else:
            parser.add_argument(*s.flags, **s.kw)
    return parser


@lru_cache(maxsize=1)
def build_parser() -> argparse.ArgumentParser:
    """The command line's parser with every subcommand, built once per process (``main`` is called many times
    in tests and notebooks)."""
    p = Parser(prog=PROG, description="The arithmetic of serving DeepSeek-class LLMs: KV bytes, bounds, catalogs.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, (h, _, _) in COMMANDS.items():
        add_options(sub.add_parser(name, help=h), options(name))
    return p


@lru_cache(maxsize=None)
def command_parser(name: str) -> argparse.ArgumentParser:
    """Subcommand ``name``'s parser alone (what :func:`build_parser` holds under ``name``), built once per process."""
    return add_options(Parser(prog=f"{PROG} {name}"), options(name))
