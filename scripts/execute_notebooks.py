"""Execute the book's notebooks side by side into the build's jupyter cache.

``make book`` runs this before ``jupyter-book build``.  The book executes in ``cache`` mode
(``_config.yml``): a notebook (a chapter, or a page written as a MyST notebook) whose code matches a cached execution takes that execution's outputs;
any other is executed during the build, one after another.  Executed here first, several at a time
(one process per core, jupyter-cache's ``local-parallel`` executor, each in its own folder as the
build would), every chapter is found in the cache, so the build executes nothing twice and waits
on no notebook serially.  The executions are the same as the build's: the same kernel, the same
timeout, errors not allowed.  Exit status 1 if a notebook fails (its traceback is printed).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor
from myst_nb.core.read import is_myst_markdown_notebook

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False).parse_args(argv)
    timeout = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["execute"]["timeout"]
    cache = get_cache(str(ROOT / "_build" / ".jupyter_cache"))   # where myst-nb looks (outdir's parent)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cache.add_nb_to_project(str(path))
    for path in sorted((ROOT / "book").glob("*.md")):           # the pages written as MyST notebooks
        if is_myst_markdown_notebook(path.read_text(encoding="utf-8")):
            cache.add_nb_to_project(str(path), read_data={"type": "plugin", "name": "myst_nb_md"})
    result = load_executor("local-parallel", cache=cache).run_and_cache(timeout=timeout, allow_errors=False)
    failed = result.excepted + result.errored
    for uri in failed:
        record = cache.get_project_record(uri)
        print(f"execute_notebooks: {uri} failed:\n{record.traceback}", file=sys.stderr)
    print(f"execute_notebooks: {len(result.succeeded)} executed, {len(failed)} failed "
          f"(the others were cached already)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
