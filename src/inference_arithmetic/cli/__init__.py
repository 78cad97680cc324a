"""The command line: ``python -m inference_arithmetic`` or ``inference-arithmetic``.

Subcommands: ``model``, ``sol``, ``figures``, ``gpus``, ``models``.  ``--json`` gives
machine-readable output.  ``--context`` and ``--batch`` take a number or a range
``start:stop[:step]`` (inclusive) evaluated in one vectorised call.  Bad input gives
one line on stderr and exit status 2; nothing typed by the user is evaluated as code.
"""
from __future__ import annotations

import contextlib
import io
import sys

from inference_arithmetic.core.errors import Error
from inference_arithmetic.cli.args import parse_range
from inference_arithmetic.cli.options import COMMANDS, quick_parse, quick_table
from inference_arithmetic.cli.commands import (cmd_decode, cmd_figures, cmd_gpus, cmd_model, cmd_models, cmd_plan,
                                               cmd_prefill, cmd_serve,
                                               cmd_sol, cmd_validate)
from inference_arithmetic.cli.output import (dumps, print_model, print_plan, print_point, print_rows, print_sol,
                                             print_validate, write_safely)

__all__ = ["main", "parse_range", "build_parser"]


def build_parser():
    """The whole argparse parser, every subcommand (:func:`.parser.build_parser`)."""
    from inference_arithmetic.cli import parser    # argparse: only where a command line needs it
    return parser.build_parser()


def _parse(argv: list[str]):
    """``build_parser().parse_args(argv)``: a plain command line through :func:`.options.quick_parse` with its
    subcommand's options (the same namespace, no parser built), else through the subcommand's parser alone
    (:func:`.parser.command_parser`), else (help, an unknown subcommand, an unrecognised flag) through the
    whole parser, which reports it as before."""
    if argv and argv[0] in COMMANDS and "-h" not in argv and "--help" not in argv:
        args = quick_parse(quick_table(argv[0]), argv[1:])
        if args is None:
            from inference_arithmetic.cli import parser    # argparse: only where the quick parse declines
            args, extra = parser.command_parser(argv[0]).parse_known_args(argv[1:])
            if extra:
                return build_parser().parse_args(argv)
        args.command = argv[0]
        return args
    return build_parser().parse_args(argv)


def _run(argv) -> int:
    """Parse, run and print to ``sys.stdout`` (a buffer: :func:`main` writes it out safely)."""
    try:
        args = _parse(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as e:  # --help
        return int(e.code or 0)
    cmd = {"model": cmd_model, "sol": cmd_sol, "decode": cmd_decode, "prefill": cmd_prefill,
           "serve": cmd_serve, "plan": cmd_plan, "figures": cmd_figures, "gpus": cmd_gpus,
           "models": cmd_models, "validate": cmd_validate}[args.command]
    out = cmd(args)
    if args.json:
        print(dumps(out))
    elif args.command == "model":
        print_model(out)
    elif args.command == "sol":
        print_sol(out)
    elif args.command in ("decode", "prefill", "serve"):
        print_point(out)
    elif args.command == "plan":
        print_plan(out)
    elif args.command == "validate":
        print_validate(out)
    else:
        print_rows(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line: exit 0 with the answer on stdout, or exit 2 with one line on stderr for any
    of the library's errors.  Output is written through :func:`.output.write_safely`: characters the
    stream cannot encode and non-printable ones are escaped, whatever the locale."""
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            code = _run(argv)
    except Error as e:
        try:
            write_safely(sys.stderr, f"inference-arithmetic: error: {' '.join(str(e).split())}\n")
        except OSError:          # a broken pipe or a closed stderr: nothing more to say
            pass
        return 2
    try:
        write_safely(sys.stdout, buf.getvalue())      # OSError where stdout is closed
        sys.stdout.flush()
    except BrokenPipeError:
        return 0
    except OSError as e:         # a full disk, a closed stream: one line, not a traceback
        try:
            write_safely(sys.stderr, f"inference-arithmetic: error: cannot write the output: {e.strerror or e}\n")
        except OSError:
            pass
        return 1
    return code
