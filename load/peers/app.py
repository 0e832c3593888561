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
"""
import asyncio
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI, Request
from fastapi.responses import Response

MS_MAX = 600000
TASK_MS = int(os.environ.get("TASK_MS", "5000"))

app = FastAPI()

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


async def gather_with_concurrency(n, *coros):
    semaphore = asyncio.Semaphore(n)

    async def bounded(coro):
        async with semaphore:
            return await coro
    return await asyncio.gather(*(bounded(c) for c in coros))


@app.get("/sync_baseline")
def sync_baseline(request: Request):
    s = task_seconds(request)
    i, j, k = sync_task(s, 1), sync_task(s, 2), sync_task(s, 3)
    return reply(f"Sync tasks completed with {i}, {j}, {k}")


@app.get("/sync_parallel")
def sync_parallel(request: Request):
    s = task_seconds(request)
    results = list(helpers.map(sync_task, [s] * 3, range(3)))
    return reply(f"Sync tasks completed with {results}")


@app.get("/async_independent")
async def async_independent(request: Request):
    s = task_seconds(request)
    i = await async_task(s, 1)
    j = await async_task(s, 2)
    k = await async_task(s, 3)
    return reply(f"Async tasks completed with {i}, {j}, {k}")


@app.get("/async_dependent")
async def async_dependent(request: Request):
    s = task_seconds(request)
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
    i, j, k = sync_task(s, 1), sync_task(s, 2), sync_task(s, 3)
    return reply(f"Async tasks completed with {i}, {j}, {k}")
