"""The queue in front of the local models: bounded, fair to short texts, cancellable.

Model work (harm, embeddings) runs on its own small pool, not asyncio's default executor,
so a burst of long texts cannot take every thread. The queue is ordered by cost (the
text's length): a short prompt waits for the batch in progress, not for six long texts
before it, because a long job stops at each batch boundary to run the cheaper jobs that
arrived meanwhile. Each job's wait is added to the verdict's timings (``queue``); when
the caller gives up (the policy's timeout), a queued job is dropped and a running one
stops at its next batch instead of burning the cores on.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import os
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Cancelled", "ModelRunner", "check_timings"]

check_timings: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar(
    "guardrail_check_timings", default=None
)
"""The timings dict of the check in progress (set by the Guard); the runner adds ``queue``."""


class Cancelled(Exception):
    """The caller went away; the model stopped between batches."""


@dataclass(order=True)
class _Job:
    cost: float
    seq: int
    run: Callable[[], None] = field(compare=False)


class ModelRunner:
    def __init__(self, workers: int | None = None) -> None:
        # ONNX Runtime already uses the cores inside one run: more runs at once only slice
        # them thinner, so by default one model run at a time per two cores.
        self.workers = workers or max(1, (os.cpu_count() or 2) // 2)
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._local = threading.local()

    def _worker(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._closed:
                    self._cond.wait()
                if self._closed and not self._heap:
                    return
                job = heapq.heappop(self._heap)
            job.run()

    def checkpoint(self) -> None:
        """Called by a running job between batches: run the cheaper jobs waiting first."""
        mine = getattr(self._local, "cost", None)
        while mine is not None:
            with self._cond:
                if not self._heap or self._heap[0].cost >= mine:
                    return
                job = heapq.heappop(self._heap)
            job.run()

    async def run(self, fn: Callable[..., Any], *args: Any, cost: float = 1.0, **kwargs: Any) -> Any:
        """``fn(*args, stop=Event, **kwargs)`` on the model pool, cheapest first; ``stop``
        is set when the awaiting caller is cancelled."""
        stop = threading.Event()
        queued = time.perf_counter()
        timings = check_timings.get()
        future: Future[Any] = Future()

        def task() -> None:
            if not future.set_running_or_notify_cancel():
                return  # the caller gave up while it waited
            if timings is not None:
                timings["queue"] = timings.get("queue", 0.0) + (time.perf_counter() - queued) * 1000.0
            outer = getattr(self._local, "cost", None)
            self._local.cost = cost
            try:
                future.set_result(fn(*args, stop=stop, checkpoint=self.checkpoint, **kwargs))
            except BaseException as exc:  # handed to the awaiting caller
                future.set_exception(exc)
            finally:
                self._local.cost = outer

        with self._cond:
            if self._closed:
                raise RuntimeError("the model runner is shut down")
            heapq.heappush(self._heap, _Job(cost, next(self._seq), task))
            if len(self._threads) < self.workers:
                t = threading.Thread(target=self._worker, name="guardrail-model", daemon=True)
                self._threads.append(t)
                t.start()
            self._cond.notify()
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            stop.set()
            future.cancel()  # still queued: never starts
            raise

    def shutdown(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
