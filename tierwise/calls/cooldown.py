"""Per-model cooldown shared by every request in the process (threads and event loops alike).

A model that fails `cooldown_failures` times within `cooldown_window_s`, on at least `cooldown_failure_ratio` of
its calls in that window, is skipped for `cooldown_s`; then one request probes it (half-open): success closes it,
failure opens it again. The ratio keeps a busy model with scattered errors in service: cooling it would only push
its traffic onto its fallbacks (or make critical stages wait). Gap: neither LangChain's
with_fallbacks nor google-genai's retries keep state across requests.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _State:
    failures: deque[float] = field(default_factory=deque)
    successes: deque[float] = field(default_factory=deque)
    open_until: float = 0.0
    probing: bool = False
    probe: int = 0  # which lease holds the probe


class Cooldowns:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock  # the attempt loop's clock: tests drive both with one fake clock
        self._lock = threading.Lock()
        self._models: dict[str, _State] = {}
        self._leases = 0

    def available(self, model: str, now: float | None = None) -> bool:
        """May a request use `model` now? Past its cooldown, lets exactly one probe through."""
        now = self._clock() if now is None else now
        with self._lock:
            state = self._models.get(model)
            if state is None or state.open_until == 0.0:
                return True
            if now < state.open_until or state.probing:
                return False
            state.probing = True
            return True

    def acquire(self, model: str, now: float | None = None) -> int | None:
        """Like `available`, as a lease: None = skip the model; 0 = an ordinary call; n > 0 = this call is the
        half-open probe, to `release(model, n)` whatever it ends with."""
        state = self._models.get(model)
        if state is None or state.open_until == 0.0:
            return 0  # healthy: lock-free
        if not self.available(model, now):
            return None
        with self._lock:
            self._leases += 1
            state.probe = self._leases
            return state.probe

    def ready_at(self, model: str) -> float:
        with self._lock:
            state = self._models.get(model)
            return state.open_until if state else 0.0

    def failed(self, model: str, *, failures: int, window_s: float, cooldown_s: float, ratio: float = 0.5) -> bool:
        """Count a transient failure; True when it (re)opens the cooldown."""
        now = self._clock()
        with self._lock:
            state = self._models.setdefault(model, _State())
            if state.probing:
                state.probing, state.open_until = False, now + cooldown_s
                return True
            state.failures.append(now)
            _trim(state, now - window_s)
            failed, total = len(state.failures), len(state.failures) + len(state.successes)
            if failed >= failures and failed / total >= ratio:
                state.failures.clear()
                state.successes.clear()
                state.open_until = now + cooldown_s
                return True
            return False

    def succeeded(self, model: str, *, window_s: float = 60.0) -> None:
        if model not in self._models:
            return  # never failed: nothing to count against (the common case, kept lock-free)
        now = self._clock()
        with self._lock:
            state = self._models.setdefault(model, _State())
            if state.open_until:  # a successful probe closes the cooldown
                state.failures.clear()
                state.open_until, state.probing = 0.0, False
            state.successes.append(now)
            _trim(state, now - window_s)

    def release(self, model: str, lease: int) -> None:
        """End probe `lease`, if no verdict closed or reopened the cooldown meanwhile: whatever the probe ended
        with (an unusable answer, a bad request, the deadline, an exception), the next request may probe again —
        a model is never left "probing" for the rest of the process."""
        if not lease:
            return  # not a probe: the common case, lock-free
        with self._lock:
            state = self._models.get(model)
            if state is not None and state.probing and state.probe == lease:
                state.probing = False

    def reset(self) -> None:
        with self._lock:
            self._models.clear()



def _trim(state: _State, oldest: float) -> None:
    for events in (state.failures, state.successes):
        while events and events[0] < oldest:
            events.popleft()
