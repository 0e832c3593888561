"""pg_tasks: the peer's tasks as PostgreSQL queries, the C servers' --backend
postgres for load/peers/app.py, over Debian's psycopg 3 and psycopg_pool.

Off unless LAB_DB is set (a libpq conninfo or URI); then, per worker process:

    LAB_DB=CONNINFO   the database
    LAB_POOL=N        connections in each pool this worker opens     [10]
    LAB_POOLS=KINDS   which pools: sync, async or "sync,async"  [sync,async]
    LAB_APP_NAME=S    the connections' application_name         [lab-fastapi]

Each task is one query, the C servers' text (shared/pg_task.h: psycopg turns
the %s placeholders into $1 and $2), sent unprepared in autocommit as
PQexecParams sends it: the task's argument goes in as $1 and comes back in
the row, so the dependent route's value really flows through the database.

  - sync tasks (the plain `def` routes on FastAPI's threadpool, their helpers,
    and /async_blocking, which blocks its loop with them: the classic mistake
    with a real driver) take a connection from a psycopg_pool.ConnectionPool,
    blocking;
  - async tasks await one from a psycopg_pool.AsyncConnectionPool.

A route whose tasks run in order holds one connection for its whole plan
(one_connection, one_connection_async around its tasks), as the C servers'
do and the model counts (one connection a request); the gathered routes and
/sync_parallel's helpers take one per task they run at once. Without that, each
task would queue for the pool again, and every request would pass through
the queue three times: the same throughput, but the requests finishing
together, late, instead of one after another.

Both pools hand connections out first come, first served, and open every
connection at the worker's start-up (min_size = max_size = LAB_POOL), before
uvicorn lets the worker accept: a scenario measures a warm pool. A task that
fails answers 503 (the database is unreachable, the connection was lost, no
connection within WAIT_S) or 500, with a JSON reason, as the C servers do.

The database down, as the C servers decide it (docs/RELIABILITY.md):
  - at start-up, one connection is tried first (libpq's connect_timeout,
    CONNECT_TIMEOUT_S): if it fails, the worker says so once on stderr and
    starts anyway, its pools filling in the background, and answers 503
    until the database is back; if it works, the worker waits for its pools
    to open at most OPEN_TIMEOUT_S, then starts in any case;
  - a task that finds the database gone (its query fails: the connection was
    lost) answers 503 at once and marks the database suspect; the next task
    that needs a connection tries one first (one try a second for the whole
    worker, bounded by connect_timeout) and, while that fails, answers 503
    instead of queuing for a pool that cannot fill. A task already queued
    waits for its connection (FIFO, WAIT_S at most), which the pool brings
    back, reconnecting with psycopg_pool's backoff, once the database is.
"""
import asyncio
import contextlib
import contextvars
import os

MS_MAX = 600000
SQL = "select %s::int4 from pg_sleep(%s::float8 / 1000)"
# application_name: the harness counts a server's connections by it
APP_NAME = os.environ.get("LAB_APP_NAME", "lab-fastapi")
CONNECT_TIMEOUT_S = 5  # shared/pg_task.h's PG_CONNECT_TIMEOUT_S
WAIT_S = 600  # a task waits this long for a connection (a queue, not a failure)
OPEN_TIMEOUT_S = 120  # hundreds of backends start one by one (~1,000 a minute here)
PROBE_EVERY_S = 1  # while the database is suspect, one connection try a second

CONNINFO = os.environ.get("LAB_DB")
ENABLED = CONNINFO is not None


class TaskFailed(Exception):
    """A task's query failed: status is the HTTP answer, why says why."""

    def __init__(self, status, why):
        super().__init__(why)
        self.status, self.why = status, why


# The connection an in-order request holds, if any (one per pool kind: the
# sync one may be held on the loop's thread, by /async_blocking).
_held_sync = contextvars.ContextVar("lab_held_sync", default=None)
_held_async = contextvars.ContextVar("lab_held_async", default=None)


def settings(environ):
    """(pool size, kinds) from the environment; ValueError names a bad value."""
    raw = environ.get("LAB_POOL", "10")
    if not raw.isdigit() or not 0 < int(raw) <= 100000:
        raise ValueError("LAB_POOL must be 1..100000, not '%s'" % raw)
    kinds = [k for k in environ.get("LAB_POOLS", "sync,async").split(",") if k]
    if not kinds or any(k not in ("sync", "async") for k in kinds):
        raise ValueError("LAB_POOLS must be sync, async or sync,async, not '%s'" %
                         environ.get("LAB_POOLS"))
    return int(raw), kinds


def milliseconds(seconds):
    """app.py's task seconds back to the whole milliseconds they came from."""
    return round(seconds * 1000)


def checked(row, n):
    if row is None or row[0] != n:
        raise TaskFailed(500, "the task query was given %d and returned %s" % (
            n, "no row" if row is None else row[0]))
    return row[0]


def failure(e):
    """The HTTP status and reason of a psycopg or pool exception."""
    import psycopg
    import psycopg_pool
    why = (str(e).splitlines() or [type(e).__name__])[0]
    if isinstance(e, psycopg_pool.PoolTimeout):
        return TaskFailed(503, "no database connection within %d s" % WAIT_S)
    if isinstance(e, psycopg.errors.QueryCanceled):
        return TaskFailed(504, "query cancelled: " + why)
    if isinstance(e, psycopg.OperationalError):
        return TaskFailed(503, "database connection lost: " + why)
    return TaskFailed(500, "query failed: " + why)


class Health:
    """Whether the database answers: a worker's one view of it, shared by its
    threads and its loop. suspect() after a lost connection; then check(try_)
    calls try_() (a connection attempt, returning None or why it failed) at
    most once every PROBE_EVERY_S, and returns why the database is down, or
    None when it is up (or not suspect)."""

    def __init__(self, clock):
        import threading
        self.clock, self.lock = clock, threading.Lock()
        self.down, self.why, self.tried = False, None, -PROBE_EVERY_S

    def suspect(self, why):
        with self.lock:
            self.down, self.why = True, why

    def check(self, try_):
        with self.lock:
            if not self.down:
                return None
            now = self.clock()
            if now - self.tried < PROBE_EVERY_S:
                return self.why
            self.tried = now
        why = try_()  # outside the lock: a connect may take connect_timeout
        with self.lock:
            self.down, self.why = why is not None, why or self.why
            return why


def unreachable(conninfo, connect):
    """None when a connection to conninfo opens, else libpq's first line."""
    try:
        connect(conninfo, connect_timeout=CONNECT_TIMEOUT_S, application_name=APP_NAME + "-probe").close()
        return None
    except Exception as e:  # psycopg.Error, and OSError from a bad socket path
        return (str(e).splitlines() or [type(e).__name__])[0]


if ENABLED:
    import sys
    import time

    import psycopg
    import psycopg_pool

    POOL, KINDS = settings(os.environ)
    # autocommit: one statement, no BEGIN/ROLLBACK around it; prepare_threshold
    # None: never prepared, as the C servers' PQexecParams.
    _kwargs = {"autocommit": True, "prepare_threshold": None, "application_name": APP_NAME,
               "connect_timeout": CONNECT_TIMEOUT_S}
    _common = {"min_size": POOL, "max_size": POOL, "timeout": WAIT_S, "kwargs": _kwargs}
    sync_pool = psycopg_pool.ConnectionPool(CONNINFO, open=False, name="sync", **_common) \
        if "sync" in KINDS else None
    async_pool = psycopg_pool.AsyncConnectionPool(CONNINFO, open=False, name="async", **_common) \
        if "async" in KINDS else None

    health = Health(time.monotonic)

    def _probe():
        return unreachable(CONNINFO, psycopg.connect)

    def _down():
        """A 503 when the database is suspect and still does not answer."""
        why = health.check(_probe)
        if why is not None:
            return TaskFailed(503, "database unreachable: " + why)
        return None

    async def open_pools():
        """FastAPI's startup: every connection open before the worker serves,
        or, with the database unreachable, none (bounded: see the top)."""
        why = _probe()
        if why is not None:
            print("pg_tasks: database unreachable at start (%s): %s; answering 503 until it is "
                  "back" % (CONNINFO, why), file=sys.stderr, flush=True)
            health.suspect(why)
        try:
            if sync_pool is not None:
                sync_pool.open(wait=why is None, timeout=OPEN_TIMEOUT_S)
            if async_pool is not None:
                await async_pool.open(wait=why is None, timeout=OPEN_TIMEOUT_S)
        except psycopg_pool.PoolTimeout as e:
            print("pg_tasks: the pools did not open within %d s (%s); serving anyway" % (
                OPEN_TIMEOUT_S, e), file=sys.stderr, flush=True)

    async def close_pools():
        if sync_pool is not None:
            sync_pool.close()
        if async_pool is not None:
            await async_pool.close()

    def _needs(pool, kind):
        if pool is None:
            raise TaskFailed(500, "this worker has no %s pool (LAB_POOLS=%s)" % (kind, ",".join(KINDS)))
        return pool

    @contextlib.contextmanager
    def one_connection():
        """The sync pool's connection for every task inside, held throughout."""
        pool = _needs(sync_pool, "sync")
        down = _down()
        if down:
            raise down
        try:
            conn = pool.getconn()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as e:
            raise failure(e) from None
        token = _held_sync.set(conn)
        try:
            yield
        finally:
            _held_sync.reset(token)
            pool.putconn(conn)  # a broken one is closed and replaced

    @contextlib.asynccontextmanager
    async def one_connection_async():
        """The async pool's connection for every task inside, held throughout."""
        pool = _needs(async_pool, "async")
        down = await asyncio.to_thread(_down) if health.down else None
        if down:
            raise down
        try:
            conn = await pool.getconn()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as e:
            raise failure(e) from None
        token = _held_async.set(conn)
        try:
            yield
        finally:
            _held_async.reset(token)
            await pool.putconn(conn)

    def lost(e):
        """failure(e); a lost connection makes the database suspect."""
        f = failure(e)
        if isinstance(e, psycopg.OperationalError):
            health.suspect(f.why)
        return f

    def sync_task(seconds, n):
        try:
            conn = _held_sync.get()
            if conn is not None:
                row = conn.execute(SQL, (n, milliseconds(seconds))).fetchone()
            else:
                pool = _needs(sync_pool, "sync")
                down = _down()
                if down:
                    raise down
                with pool.connection() as conn:
                    row = conn.execute(SQL, (n, milliseconds(seconds))).fetchone()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as e:
            raise lost(e) from None
        return checked(row, n)

    async def async_task(seconds, n):
        try:
            conn = _held_async.get()
            if conn is not None:
                row = await (await conn.execute(SQL, (n, milliseconds(seconds)))).fetchone()
            else:
                pool = _needs(async_pool, "async")
                down = await asyncio.to_thread(_down) if health.down else None
                if down:
                    raise down
                async with pool.connection() as conn:
                    row = await (await conn.execute(SQL, (n, milliseconds(seconds)))).fetchone()
        except (psycopg.Error, psycopg_pool.PoolTimeout) as e:
            raise lost(e) from None
        return checked(row, n)
else:
    def one_connection():
        return contextlib.nullcontext()

    def one_connection_async():
        return contextlib.nullcontext()
