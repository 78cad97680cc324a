"""``serve`` prints, byte for byte, the answers recorded before its search was made cheaper (issue 25):
every mode, GPUs of each vendor, dense and MoE models, frameworks with measured tables, the pins
(``--ep``, ``--batch``, ``--max-gpus``, ``--attn``, ``--mtp``, dtypes, ``--ttft``, ``--max-throughput``)
and the setups with no answer (exit 2, one line on stderr).  Recorded by ``tests/serve_answers.py``."""
from __future__ import annotations

import json

import pytest

from serve_answers import SETUPS, STORED, answer

RECORDED = json.loads(STORED.read_text())


def test_every_setup_is_recorded():
    assert list(RECORDED) == SETUPS
    assert sum(r["code"] == 0 for r in RECORDED.values()) >= 30 and sum(r["code"] == 2 for r in RECORDED.values()) >= 5


@pytest.mark.parametrize("line", SETUPS, ids=lambda s: s[6:].replace(" --", " ").replace(" ", "_")[:90])
def test_serve_answers_as_recorded(line):
    assert answer(line) == RECORDED[line]
