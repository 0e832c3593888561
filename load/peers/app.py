"""The original experiment's app, rebuilt for `make bench` as the peer our C servers
are measured against: FastAPI, run by Debian's uvicorn with 2 workers.

    uvicorn --workers 2 --host 127.0.0.1 --port PORT --app-dir load/peers app:app

The four original endpoints do what the blog's did (seed-experiment.md); the other
routes of the lab are the nearest FastAPI equivalents. Bodies come out of the code
the way the original built them; the bench checks them byte for byte against the
route table (shared/routes.c) as served by bin/blocking and bin/evented before it
trusts any figure.

Every task sleeps TASK_MS milliseconds (environment, default 5000: the original's
SECONDS_TO_SLEEP = 5); `?ms=N` (0..600000) overrides it for one request, as in the
C servers.

With LAB_DB set (a libpq conninfo), every task is instead one PostgreSQL query
over a pool per worker process, the C servers' --backend postgres: see
pg_tasks.py (LAB_POOL, LAB_POOLS).

`make compare TARGET=fastapi` sets LAB_ORDER_LOG=DIR: each worker process then
appends, per request to a sync route, the monotonic nanoseconds at which the request
reached the app and at which a threadpool thread started it, to DIR/order-PID.tsv.
load/harness/measure.py reads them to tell in which order a worker served the
requests waiting for a thread (anyio's limiter: newest first). It also appends, per
request to any route, when it reached the app and when the app sent the response's
head (DIR/answer-PID.tsv), and per pause of the cyclic garbage collector when it
began, how long it stopped the worker and which generation it collected
(DIR/gc-PID.tsv): where an async route's time beyond its tasks goes.
"""
import asyncio
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import Response

import pg_tasks

MS_MAX = 600000
TASK_MS = int(os.environ.get("TASK_MS", "5000"))

app = FastAPI()

ORDER_LOG = os.environ.get("LAB_ORDER_LOG")
order_file = None
order_lock = threading.Lock()


class ArrivalStamp:
    """Pure ASGI: stamps when the request reached the app, before any waiting,
    and logs when the app sent the response's head."""

    def __init__(self, app):
        self.inner = app
        self.told = False

    async def __call__(self, scope, receive, send):
        scope["lab_arrival_ns"] = time.monotonic_ns()
        if not self.told:
            # The threads a sync route may use in this worker: anyio's default
            # limiter, readable only from inside the event loop.
            self.told = True
            tokens = anyio.to_thread.current_default_thread_limiter().total_tokens
            with open(os.path.join(ORDER_LOG, "threads-%d.txt" % os.getpid()), "w") as f:
                f.write("%d\n" % tokens)
        arrival = scope["lab_arrival_ns"]

        async def send_stamped(message):
            if message["type"] == "http.response.start":
                log_line("answer", "%d\t%d\n" % (arrival, time.monotonic_ns()))
            await send(message)
        await self.inner(scope, receive, send_stamped)


logs = {}


def log_line(kind, line):
    # Answers block-buffered (a line a request), flushed when the worker shuts
    # down (uvicorn's workers leave through os._exit, which flushes nothing);
    # pauses a line at a time. No lock: each file has one writer at a time (answers: the event loop's
    # thread; pauses: the collector, which never runs twice at once), and a
    # collection may start on a thread that holds order_lock.
    f = logs.get(kind)
    if f is None:
        f = logs[kind] = open(os.path.join(ORDER_LOG, "%s-%d.tsv" % (kind, os.getpid())), "a",
                              buffering=1 if kind == "gc" else -1)
    f.write(line)


def flush_logs():
    for f in logs.values():
        f.flush()


gc_began = [0]


def gc_pause(phase, info):
    # The collector stops every thread of the worker while it runs (it holds the GIL).
    if phase == "start":
        gc_began[0] = time.monotonic_ns()
    elif gc_began[0]:
        now = time.monotonic_ns()
        log_line("gc", "%d\t%d\t%d\n" % (gc_began[0], now - gc_began[0], info["generation"]))


def log_start(request):
    # Called first thing on the threadpool thread; one short line per request,
    # written at once so a killed worker keeps what it measured.
    global order_file
    if ORDER_LOG is None:
        return
    started = time.monotonic_ns()
    with order_lock:  # 40 threads share the file
        if order_file is None:
            order_file = open(os.path.join(ORDER_LOG, "order-%d.tsv" % os.getpid()), "a",
                              buffering=1)
        order_file.write("%d\t%d\n" % (request.scope["lab_arrival_ns"], started))


if ORDER_LOG is not None:
    import gc
    app.add_middleware(ArrivalStamp)
    gc.callbacks.append(gc_pause)
    app.add_event_handler("shutdown", flush_logs)

# /sync_parallel's fan-out pool: 3 helpers per threadpool thread (anyio's default 40),
# as bin/blocking's --helpers default, so it never binds.
helpers = ThreadPoolExecutor(max_workers=120)


class BadMs(Exception):
    pass


def reply(message):
    # json.dumps' default separators give the original's `{"message": "..."}`;
    # FastAPI's own JSONResponse would drop the spaces.
    return Response(json.dumps({"message": message}), media_type="application/json")


def task_seconds(request):
    raw = request.query_params.get("ms")
    if raw is None:
        return TASK_MS / 1000
    if not raw.isdigit() or int(raw) > MS_MAX:
        raise BadMs(raw)
    return int(raw) / 1000


@app.exception_handler(BadMs)
async def bad_ms(request, exc):
    return Response(json.dumps({"error": "ms must be 0..%d" % MS_MAX}), status_code=400,
                    media_type="application/json")


def sync_task(seconds, n):
    time.sleep(seconds)
    return n


async def async_task(seconds, n):
    await asyncio.sleep(seconds)
    return n


if pg_tasks.ENABLED:
    # The same routes, each task a query: blocking ones from the sync pool (in
    # /async_blocking too, stalling the loop), awaited ones from the async pool.
    sync_task, async_task = pg_tasks.sync_task, pg_tasks.async_task
    app.add_event_handler("startup", pg_tasks.open_pools)
    app.add_event_handler("shutdown", pg_tasks.close_pools)

    @app.exception_handler(pg_tasks.TaskFailed)
    async def task_failed(request, exc):
        return Response(json.dumps({"error": exc.why}), status_code=exc.status,
                        media_type="application/json")


async def gather_with_concurrency(n, *coros):
    semaphore = asyncio.Semaphore(n)

    async def bounded(coro):
        async with semaphore:
            return await coro
    return await asyncio.gather(*(bounded(c) for c in coros))


@app.get("/sync_baseline")
def sync_baseline(request: Request):
    log_start(request)
    s = task_seconds(request)
    with pg_tasks.one_connection():  # over PostgreSQL: one connection for the plan
        i, j, k = sync_task(s, 1), sync_task(s, 2), sync_task(s, 3)
    return reply(f"Sync tasks completed with {i}, {j}, {k}")


@app.get("/sync_parallel")
def sync_parallel(request: Request):
    log_start(request)
    s = task_seconds(request)
    results = list(helpers.map(sync_task, [s] * 3, range(3)))
    return reply(f"Sync tasks completed with {results}")


@app.get("/async_independent")
async def async_independent(request: Request):
    s = task_seconds(request)
    async with pg_tasks.one_connection_async():
        i = await async_task(s, 1)
        j = await async_task(s, 2)
        k = await async_task(s, 3)
    return reply(f"Async tasks completed with {i}, {j}, {k}")


@app.get("/async_dependent")
async def async_dependent(request: Request):
    s = task_seconds(request)
    async with pg_tasks.one_connection_async():
        i = await async_task(s, 1)
        j = await async_task(s, i)
        k = await async_task(s, j)
    return reply(f"Async tasks completed with {i}, {j}, {k}")


@app.get("/async_concurrent")
async def async_concurrent(request: Request):
    s = task_seconds(request)
    results = await gather_with_concurrency(3, *(async_task(s, n) for n in range(3)))
    return reply(f"Async tasks completed with {results}")


@app.get("/async_dataflow")
async def async_dataflow(request: Request):
    # The independent route's tasks, started together because none needs another.
    s = task_seconds(request)
    i, j, k = await asyncio.gather(async_task(s, 1), async_task(s, 2), async_task(s, 3))
    return reply(f"Async tasks completed with {i}, {j}, {k}")


@app.get("/async_blocking")
async def async_blocking(request: Request):
    # The classic mistake: a blocking sleep inside a coroutine stalls the worker's loop.
    s = task_seconds(request)
    with pg_tasks.one_connection():
        i, j, k = sync_task(s, 1), sync_task(s, 2), sync_task(s, 3)
    return reply(f"Async tasks completed with {i}, {j}, {k}")
