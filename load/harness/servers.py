"""servers: the servers the bench measures, started under the bench's Procs
on the server's CPU: the lab's own (ready when they print their ready line),
nginx serving the same body (`return 200`), and what rows share."""
import time
import urllib.request

READY = r"listening on http://127\.0\.0\.1:(\d+)"


def ours(b, name, argv, log):
    """bin/evented or bin/blocking: (Proc, base URL) once ready."""
    p = b.procs.start(name, b.srv + list(argv), log=log)
    port = p.wait_ready(READY, timeout=10).group(1)
    return p, "http://127.0.0.1:%s" % port


def get(url, timeout=5):
    """The body at url (bytes), or None."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read()
    except OSError:
        return None


def wait_http(url, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get(url, timeout=1) is not None:
            return
        if not proc.alive():
            break
        time.sleep(0.1)
    raise RuntimeError("nothing answers at %s (see %s)" % (url, proc.log))


def body_of_route(b, path):
    """The body bin/evented answers for PATH?ms=0."""
    p, url = ours(b, "evented (body)", ["bin/evented", "--listen", "127.0.0.1:0", "--workers", "1"],
                  b.data / "body.log")
    body = get(url + path + "?ms=0")
    b.procs.stop(p)
    if not body:
        raise RuntimeError("bin/evented served no body for %s?ms=0" % path)
    return body.decode()


NGINX_CONF = """worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 20000; }}
http {{
	access_log off;
	client_body_temp_path {d}/body;
	proxy_temp_path {d}/proxy;
	fastcgi_temp_path {d}/fastcgi;
	uwsgi_temp_path {d}/uwsgi;
	scgi_temp_path {d}/scgi;
	# Keep-alive as our servers do: no forced reconnect every 1000 requests.
	keepalive_requests 1000000;
	server {{
		listen 127.0.0.1:{port};
		location / {{
			default_type application/json;
			return 200 '{body}';
		}}
	}}
}}
"""


def nginx(b):
    """nginx-light, one worker, `return 200` of the bench's body."""
    from loads import free_port
    d = b.data / "nginx"
    d.mkdir(exist_ok=True)
    port = free_port()
    body = b.body.replace("\\", "\\\\").replace("'", "\\'")
    (d / "nginx.conf").write_text(NGINX_CONF.format(d=d.resolve(), port=port, body=body))
    p = b.procs.start("nginx", b.srv + ["nginx", "-c", d.resolve() / "nginx.conf", "-p", d.resolve()],
                      log=d / "out.log")
    url = "http://127.0.0.1:%d" % port
    wait_http(url + "/", p)
    return p, url


def evented_w1(b):
    """One bin/evented worker with room for 20,000 connections."""
    return ours(b, "evented w1", ["bin/evented", "--listen", "127.0.0.1:0", "--workers", "1",
                                  "--max-conns", "20000"], b.data / "evented-w1.log")


def epoll_floor(b):
    """build/bench/epoll_floor: one recv and one send a request of the bench's
    body, nothing else (row 3's yardstick)."""
    return ours(b, "epoll floor", [b.FLOOR, "--listen", "127.0.0.1:0", "--body", b.body],
                b.data / "epoll-floor.log")


SHARED = {"nginx": nginx, "evented-w1": evented_w1, "epoll-floor": epoll_floor}
