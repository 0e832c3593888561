"""A Locust master that misbehaves, for tests/rel_worker.c: it binds a ROUTER on
127.0.0.1:PORT, acks the first client_ready as Locust 2.12.1's master does, then:

  garbage  sends every kind of bad frame (one per line on stdout: "sent KIND"),
           then "stop": a worker that survived answers client_stopped and
           client_ready ("alive" on stdout), then "quit".
  old      sends Locust 1.x's spawn (num_users, no user_classes_count).

Exits 0 when the worker behaved as told, 1 otherwise (the reason on stdout).
"""
import sys
import time

import msgpack
import zmq


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    ctx = zmq.Context()
    r = ctx.socket(zmq.ROUTER)
    r.bind(f"tcp://127.0.0.1:{port}")
    print("ready", flush=True)

    def recv(timeout_s=20):
        if not r.poll(timeout_s * 1000):
            return None, None
        ident, data = r.recv_multipart()
        return ident, msgpack.loads(data, raw=False, strict_map_key=False)

    while True:
        ident, msg = recv()
        if msg is None:
            print("no client_ready"); return 1
        if msg[0] == "client_ready":
            break
    node = msg[2]
    r.send_multipart([ident, msgpack.dumps(("ack", {"index": 0}, node))])
    if mode == "old":
        r.send_multipart([ident, msgpack.dumps(("spawn", {"num_users": 5, "spawn_rate": 1.0,
                          "host": "http://127.0.0.1:1", "stop_timeout": None}, node))])
        time.sleep(2)
        return 0
    spawn = msgpack.dumps(("spawn", {"timestamp": time.time(), "user_classes_count": {"X": 1},
                                     "host": "http://127.0.0.1:1"}, node))
    frames = {
        "empty frame": b"",
        "a byte msgpack never uses (0xc1)": b"\xc1",
        "a spawn cut one byte short": spawn[:-1],
        "an ack with a byte too many": msgpack.dumps(("ack", None, node)) + b"\x00",
        "a 2-item array": msgpack.dumps(("stop", None)),
        "a type that is a number": msgpack.dumps((7, None, node)),
        "an unknown type": msgpack.dumps(("party", {"x": 1}, node)),
        "an array declaring 2^32 items in 5 bytes": b"\xdd\xff\xff\xff\xff",
        "a spawn whose user_classes_count is a list": msgpack.dumps(
            ("spawn", {"timestamp": time.time(), "user_classes_count": [1, 2]}, node)),
        "a spawn with a negative count": msgpack.dumps(
            ("spawn", {"timestamp": time.time(), "user_classes_count": {"X": -5}}, node)),
    }
    for kind, frame in frames.items():
        r.send_multipart([ident, frame])
        print("sent", kind, flush=True)
    r.send_multipart([ident, msgpack.dumps(("stop", None, node)), b"a second frame"])
    print("sent a stop with a second frame", flush=True)
    got = []
    end = time.time() + 20
    while time.time() < end and "client_ready" not in got:
        _, msg = recv(2)
        if msg is not None:
            got.append(msg[0])
    if "client_stopped" not in got or "client_ready" not in got:
        print("no client_stopped and client_ready after the garbage:", got); return 1
    print("alive", flush=True)
    r.send_multipart([ident, msgpack.dumps(("quit", None, node))])
    time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
