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


@dataclass
class _Batchable:
    key: tuple[object, Callable[..., list[Any]]]  # (kind, fn); kind None never batches
    item: Any
    future: Future[Any]
    stop: threading.Event
    queued: float
    timings: dict[str, float] | None


@dataclass(order=True)
class _Job:
    cost: float
    seq: int
    batch: _Batchable = field(compare=False)


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
        self.max_batch = 32

    def _worker(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._closed:
                    self._cond.wait()
                if self._closed and not self._heap:
                    return
                job = heapq.heappop(self._heap)
                peers = self._peers(job)
            self._dispatch(job, peers)

    def _peers(self, job: _Job) -> list[_Job]:
        # Micro-batching: checks that arrived together run in one model call. Called with
        # the lock held; takes the cheapest queued jobs of the same kind.
        if job.batch.key[0] is None:
            return []
        # Only jobs of similar size join: a short prompt must not wait for a long text
        # that happens to be queued too.
        bound = max(job.cost * 4, 2000.0)
        out, total = [], job.cost
        for j in sorted(j for j in self._heap if j.batch.key == job.batch.key):
            if len(out) >= self.max_batch - 1 or j.cost > bound or total + j.cost > 16_000:
                break
            out.append(j)
            total += j.cost
        if out:
            taken = {id(j) for j in out}
            self._heap = [j for j in self._heap if id(j) not in taken]
            heapq.heapify(self._heap)
        return out

    def _dispatch(self, job: _Job, peers: list[_Job]) -> None:
        members = [j.batch for j in (job, *peers) if j.batch.future.set_running_or_notify_cancel()]
        if not members:
            return
        now = time.perf_counter()
        for m in members:
            if m.timings is not None:
                m.timings["queue"] = m.timings.get("queue", 0.0) + (now - m.queued) * 1000.0
        _, fn = job.batch.key
        stop = _AllStopped([m.stop for m in members])
        outer = getattr(self._local, "cost", None)
        self._local.cost = max(j.cost for j in (job, *peers))
        try:
            results = fn([m.item for m in members], stop=stop, checkpoint=self.checkpoint)
        except BaseException as exc:  # each caller gets the failure
            for m in members:
                m.future.set_exception(exc)
        else:
            for m, r in zip(members, results):
                m.future.set_result(r)
        finally:
            self._local.cost = outer

    async def run_batched(self, key: object, fn: Callable[..., list[Any]], item: Any, *, cost: float) -> Any:
        """Like :meth:`run`, but jobs with the same ``key`` that are queued together run as
        one call ``fn([items], stop=, checkpoint=) -> [results]`` (at most ``max_batch``)."""
        future: Future[Any] = Future()
        batch = _Batchable((key, fn), item, future, threading.Event(), time.perf_counter(), check_timings.get())
        self._submit(_Job(cost, next(self._seq), batch))
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            batch.stop.set()
            future.cancel()
            raise

    def _submit(self, job: _Job) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the model runner is shut down")
            heapq.heappush(self._heap, job)
            if len(self._threads) < self.workers:
                t = threading.Thread(target=self._worker, name="guardrail-model", daemon=True)
                self._threads.append(t)
                t.start()
            self._cond.notify()

    def checkpoint(self) -> None:
        """Called by a running job between batches: run the cheaper jobs waiting first."""
        mine = getattr(self._local, "cost", None)
        while mine is not None:
            with self._cond:
                if not self._heap or self._heap[0].cost >= mine:
                    return
                job = heapq.heappop(self._heap)
                peers = self._peers(job)
            self._dispatch(job, peers)

    async def run(self, fn: Callable[..., Any], *args: Any, cost: float = 1.0, **kwargs: Any) -> Any:
        """``fn(*args, stop=Event, checkpoint=..., **kwargs)`` on the model pool, cheapest
        first, alone; ``stop`` is set when the awaiting caller is cancelled."""

        def alone(items: list[Any], *, stop: Any, checkpoint: Any) -> list[Any]:
            return [fn(*args, stop=stop, checkpoint=checkpoint, **kwargs)]

        return await self.run_batched(None, alone, None, cost=cost)

    def shutdown(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class _AllStopped:
    """A batch stops when every caller in it has gone."""

    def __init__(self, events: list[threading.Event]) -> None:
        self._events = events

    def is_set(self) -> bool:
        return all(e.is_set() for e in self._events)
