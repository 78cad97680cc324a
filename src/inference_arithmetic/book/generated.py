"""Writing and checking generated source folders (``core/fast``, ``core/catalogs``): the one place a
generator's files are compared with, written to and pruned from their folder, and its ``--write`` /
``--check`` command line."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

__all__ = ["stale", "write", "main"]


def stale(files: dict[str, str], out: Path) -> list[str]:
    """Names of the files of ``out`` that differ from ``files`` (name -> text), are missing, or are
    ``*.py`` files ``files`` no longer has."""
    return sorted({n for n, t in files.items() if not (out / n).exists()
                   or (out / n).read_text(encoding="utf-8") != t}
                  | {p.name for p in out.glob("*.py") if p.name not in files})


def write(files: dict[str, str], out: Path) -> list[str]:
    """Write ``files`` into ``out`` and remove ``*.py`` files it no longer has; the names that changed."""
    out.mkdir(exist_ok=True)
    changed = stale(files, out)
    for name in changed:
        if name in files:
            (out / name).write_text(files[name], encoding="utf-8")
        else:
            (out / name).unlink()
    return changed


def main(argv: list[str], generate: Callable[[], dict[str, str]], out: Path, label: str, command: str) -> int:
    """``--write`` (write :func:`generate`'s files) or ``--check`` (exit 1 if ``out`` is not current)."""
    if argv == ["--write"]:
        changed = write(generate(), out)
        print(f"{label}: {len(changed)} file(s) written" + (f": {', '.join(changed)}" if changed else ""))
        return 0
    if argv == ["--check"]:
        behind = stale(generate(), out)
        if behind:
            print(f"{label} is not current ({', '.join(behind)}): run {command}", file=sys.stderr)
            return 1
        return 0
    print(f"usage: {command} | --check", file=sys.stderr)
    return 2
