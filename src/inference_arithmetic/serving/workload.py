"""A workload and its service level: what the search and the planner are asked to serve.

A **service** is a request shape (``isl`` input and ``osl`` output tokens), a prefix-cache hit
rate and a service level (a per-user speed floor, an optional longest time to first token).
A **workload** adds a volume (requests per second on average) and a daily load profile.

The **decode context** of a service is the mean context a decode batch holds (tokens per request
in flight): its attention reads and its paged KV cache.  A request of ``I`` input and ``L`` output
tokens stays in the batch for ``L`` steps with a context growing from ``I`` to ``I + L``, ``I + L/2``
on average, so the batch holds requests in proportion to their output length (length-biased
sampling): the time average over the requests is ``E[I L] / E[L] + E[L^2] / (2 E[L])``
(:func:`inflight_context`), which is ``isl + osl / 2`` for fixed lengths (the default) and larger the
more the output lengths vary (a dataset's spread enters as a cited ``context``).  It may be below
``isl`` (long prompts with short answers weigh little), never below ``osl / 2``
(``E[L^2] >= E[L]^2``): a smaller stated context is refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference_arithmetic.core.errors import InputError
from inference_arithmetic.core.inputs import MAX_PER_USER, MAX_TTFT_S, number
from inference_arithmetic.core.rounding import decimals_apart

__all__ = ["Profile", "Service", "Workload", "DAY_S", "inflight_context"]

DAY_S = 86400.0


@dataclass(frozen=True)
class Profile:
    """The daily load relative to its mean: ``shape`` sampled at equal times (mean 1)."""

    name: str
    shape: tuple

    @property
    def peak_to_mean(self) -> float:
        return float(max(self.shape))

    @staticmethod
    def flat() -> "Profile":
        return Profile("flat", (1.0,))

    @staticmethod
    def cosine(peak_to_mean: float) -> "Profile":
        p = number(peak_to_mean, "peak-to-mean ratio", least=1.0, most=2.0)
        x = np.linspace(0, 2 * np.pi, 288, endpoint=False)
        return Profile(f"cosine:{p:g}", tuple(float(v) for v in 1 + (p - 1) * np.cos(x)))

    @staticmethod
    def hourly(values) -> "Profile":
        v = [number(x, "hourly load", least=0.0, most=1e15) for x in values]
        if not 1 <= len(v) <= 8784 or sum(v) <= 0:
            raise InputError("an hourly load profile needs 1 to 8,784 non-negative values, not all zero")
        top = max(v)
        v = [x / top for x in v]           # scaled to the peak first: no overflow from tiny (subnormal) loads
        mean = sum(v) / len(v)
        return Profile(f"hourly ({len(v)} values)", tuple(x / mean for x in v))


def inflight_context(inputs, outputs) -> float:
    """The mean context (tokens) a decode batch holds for requests of ``inputs`` and ``outputs``
    tokens (one entry per request, as a dataset lists them): ``E[I L] / E[L] + E[L^2] / (2 E[L])``,
    each request weighted by the steps it decodes (the module's header)."""
    i, o = np.asarray(inputs, dtype=float), np.asarray(outputs, dtype=float)
    if i.shape != o.shape or i.size == 0 or np.any(o <= 0) or np.any(i < 0):
        raise InputError("inflight_context needs as many input as output lengths, outputs positive")
    return float(np.sum(i * o) / np.sum(o) + np.sum(o * o) / (2 * np.sum(o)))


@dataclass(frozen=True)
class Service:
    """``isl``/``osl`` tokens per request, a per-user floor (tokens/s; ``None``: none), the longest
    TTFT (s; ``None``: none), the share of input tokens served from the prefix cache and the decode
    context (tokens; ``None``: ``isl + osl / 2``, fixed lengths; see the module's header)."""

    isl: float
    osl: float
    per_user: float | None = None
    ttft_s: float | None = None
    cache_hit: float = 0.0
    context: float | None = None

    @property
    def decode_context(self) -> float:
        """The mean context a decode batch holds, tokens per request."""
        return self.isl + self.osl / 2 if self.context is None else self.context

    def __post_init__(self):
        object.__setattr__(self, "isl", number(self.isl, "input tokens", least=1, most=10**7))
        object.__setattr__(self, "osl", number(self.osl, "output tokens", least=1, most=10**7))
        if self.per_user is not None:
            object.__setattr__(self, "per_user", number(self.per_user, "tokens/s per user", least=0, most=MAX_PER_USER,
                                                        open_low=True))
        if self.ttft_s is not None:
            object.__setattr__(self, "ttft_s", number(self.ttft_s, "TTFT", least=0, most=MAX_TTFT_S, open_low=True))
        object.__setattr__(self, "cache_hit", number(self.cache_hit, "cache hit rate", most=0.99))
        if self.context is not None:
            object.__setattr__(self, "context", number(self.context, "decode context tokens", least=1, most=10**8))
            half = self.osl / 2
            if self.context < half:     # E[L^2] / (2 E[L]) >= E[L] / 2: no dataset holds less
                d = decimals_apart(self.context, half, least=0)
                raise InputError(f"a decode context of {self.context:,.{d}f} tokens is below half the mean output length "
                                 f"({half:,.{d}f}): a request decoding its L-th token holds L - 1 of its own, "
                                 "so no dataset's batch holds less on average")


@dataclass(frozen=True)
class Workload:
    """Requests per second on average, ``isl``/``osl`` tokens each, a profile and service levels."""

    requests_per_s: float
    isl: float
    osl: float
    per_user: float
    ttft_s: float | None = None
    cache_hit: float = 0.0
    profile: Profile = Profile.flat()

    def __post_init__(self):
        # at least one request a day: a smaller volume is no fleet to plan (and no division by ~0)
        object.__setattr__(self, "requests_per_s", number(self.requests_per_s, "requests per second",
                                                          least=1 / DAY_S, most=1e9))
        object.__setattr__(self, "isl", number(self.isl, "input tokens", least=1, most=10**7))
        object.__setattr__(self, "osl", number(self.osl, "output tokens", least=1, most=10**7))
        object.__setattr__(self, "per_user", number(self.per_user, "tokens/s per user", least=0, most=MAX_PER_USER,
                                                    open_low=True))
        if self.ttft_s is not None:
            object.__setattr__(self, "ttft_s", number(self.ttft_s, "TTFT", least=0, most=MAX_TTFT_S, open_low=True))
        object.__setattr__(self, "cache_hit", number(self.cache_hit, "cache hit rate", most=0.99))

    @staticmethod
    def from_tokens_per_day(tokens: float, isl: float, osl: float, **kw) -> "Workload":
        per_request = (number(isl, "input tokens", least=1, most=10**7)
                       + number(osl, "output tokens", least=1, most=10**7))
        # the volume's own bounds, in its own unit: Workload's one request a day to 1e9 requests per second
        tokens = number(tokens, "tokens per day (one request a day at least)", least=per_request,
                        most=1e9 * DAY_S * per_request)
        return Workload(requests_per_s=tokens / DAY_S / (isl + osl), isl=isl, osl=osl, **kw)

    @property
    def service(self) -> Service:
        return Service(self.isl, self.osl, self.per_user, self.ttft_s, self.cache_hit)

    @property
    def input_per_s(self) -> float:
        return self.requests_per_s * self.isl

    @property
    def output_per_s(self) -> float:
        return self.requests_per_s * self.osl


