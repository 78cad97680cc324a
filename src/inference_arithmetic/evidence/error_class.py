"""The validation error of a recommendation's class: GPU generation x serving framework x phase.

A planner's answer is a model prediction; what it is worth is how far predictions of the same
kind have been from published measurements.  The *class* of a prediction is the generation of
its GPU (:func:`.hardware.gpus.generation`), the serving framework whose kernels it assumes
(``--framework``) and its phase (decode, prefill, or end-to-end for a whole deployment).  The
validation set grouped that way (:mod:`.error_table`, which computes and writes it) is stored in
``data/validation_classes.yaml``: predicting the whole validation set takes a second, too long for
a command-line answer, so this module only reads the stored groups (a test requires the stored
file to equal a fresh computation, so it cannot drift from the model).

Where a class has no entry, the nearest wider class with entries answers, and says so: the same
generation and phase over every framework, then the phase over every GPU.
"""
from __future__ import annotations

from functools import lru_cache

from inference_arithmetic.core.cited import read_yaml
from inference_arithmetic.hardware.gpus import generation

__all__ = ["ANY", "FILE", "class_key", "headline_key", "family_key", "PER_USER_KEY", "DECODE_PER_GPU_KEY",
           "HEADLINE_GROUPS", "stored", "error_of", "ROLE_PHASE"]

#: the word for "every generation" or "every framework" in a wider class
ANY = "any"
FILE = "validation_classes.yaml"
#: the phase whose error a pool's role answers to (a pool doing both is a whole deployment)
ROLE_PHASE = {"decode": "decode", "prefill": "prefill", "both": "end-to-end"}


def class_key(gen: str, framework: str, phase: str) -> str:
    """``generation | framework | phase``, the key of a class (``any`` for a wider one)."""
    return f"{gen} | {framework} | {phase}"


#: the groups whose errors the book's headlines state (:mod:`.headlines`), stored beside the classes so that a
#: chapter glues them without predicting the whole set again: DeepSeek-V3/R1 entries, every entry, the entries on
#: AMD GPUs, and the DeepSeek-V3/R1 entries on Hopper and on Blackwell GPUs
HEADLINE_GROUPS = ("deepseek-v3", "every family", "AMD GPUs", "deepseek-v3 on Hopper", "deepseek-v3 on Blackwell")


def headline_key(group: str) -> str:
    """The stored table's key of a headline group (:data:`HEADLINE_GROUPS`), apart from every class key."""
    return f"headline | {group}"


def family_key(name: str) -> str:
    """The stored table's key of a model family's group (every entry of that family, with its sources)."""
    return f"family | {name}"


#: the stored group of the DeepSeek-V3/R1 entries whose measurement is a per-user speed (tokens/s per user)
PER_USER_KEY = "per-user speed | deepseek-v3"
#: the stored group of the decode-phase entries measured as a throughput (tokens/s per GPU), every family
DECODE_PER_GPU_KEY = "decode throughput per GPU | every family"


@lru_cache(maxsize=None)
def stored() -> dict:
    """The classes as stored in ``data/validation_classes.yaml``."""
    return read_yaml(FILE)


def error_of(gpu_key: str, framework: str, phase: str) -> dict | None:
    """The validation error of the class of a prediction on ``gpu_key`` with ``framework``'s
    kernels in ``phase``: ``{class, n, mape, mean_error, exact}`` (fractions) where ``class`` names
    the class that answered and ``exact`` says whether it is the prediction's own (``False``: a
    wider one); ``None`` where no entry of the phase has been measured."""
    table, gen = stored(), generation(gpu_key)
    for key, exact in ((class_key(gen, framework, phase), True), (class_key(gen, ANY, phase), False),
                       (class_key(ANY, ANY, phase), False)):
        if key in table:
            return {"class": key, **table[key], "exact": exact}
    return None
