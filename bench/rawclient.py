"""A bare pyzmq Jupyter client (no jupyter_client threads), as in
../../shared/reference/raw_rt.py: signs requests with the connection key, reads
header / parent / content of everything that comes back, nothing else.

Every wait is bounded by a deadline; a kernel that stops answering raises
BenchTimeout instead of hanging the run.
"""

import hashlib
import hmac
import json
import time
import uuid

import zmq

_CTX = None


def context():
    global _CTX
    if _CTX is None:
        _CTX = zmq.Context()
    return _CTX


def term_context():
    global _CTX
    if _CTX is not None:
        _CTX.destroy(linger=0)  # closes any socket still open (error paths)
        _CTX = None


class BenchTimeout(Exception):
    pass


def url(conn, port_name):
    transport = conn.get("transport", "tcp")
    if transport == "tcp":
        return "tcp://%s:%d" % (conn["ip"], conn[port_name])
    return "ipc://%s-%d" % (conn["ip"], conn[port_name])


class RawClient:
    """shell + control DEALERs and an iopub SUB on one kernel.

    reconnect_ivl_ms: how often zmq retries a refused connect. The launch
    measure connects before the kernel exists, so it uses 1 ms; zmq's default
    (100 ms) would dominate a 20 ms launch.
    """

    def __init__(self, conn, reconnect_ivl_ms=100, iopub=True):
        self.conn = conn
        self.key = conn["key"].encode()
        self.session = uuid.uuid4().hex
        ctx = context()
        self.sockets = []

        def sock(kind, port_name):
            s = ctx.socket(kind)
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.RECONNECT_IVL, reconnect_ivl_ms)
            if kind == zmq.SUB:
                s.setsockopt(zmq.RCVHWM, 0)  # never drop on our side
                s.setsockopt(zmq.SUBSCRIBE, b"")
            s.connect(url(conn, port_name))
            self.sockets.append(s)
            return s

        self.shell = sock(zmq.DEALER, "shell_port")
        self.control = sock(zmq.DEALER, "control_port")
        self.iopub = sock(zmq.SUB, "iopub_port") if iopub else None
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        if self.iopub is not None:
            self.poller.register(self.iopub, zmq.POLLIN)

    def close(self):
        for s in self.sockets:
            s.close(linger=0)
        self.sockets = []

    # -- wire ---------------------------------------------------------------
    def send(self, sock, msg_type, content):
        mid = uuid.uuid4().hex
        hdr = json.dumps(
            {
                "msg_id": mid,
                "session": self.session,
                "username": "bench",
                "date": "2026-01-01T00:00:00Z",
                "msg_type": msg_type,
                "version": "5.3",
            }
        ).encode()
        parts = [hdr, b"{}", b"{}", json.dumps(content).encode()]
        sig = hmac.new(self.key, b"".join(parts), hashlib.sha256).hexdigest().encode()
        sock.send_multipart([b"<IDS|MSG>", sig] + parts)
        return mid

    @staticmethod
    def parse(frames):
        i = frames.index(b"<IDS|MSG>")
        return json.loads(frames[i + 2]), json.loads(frames[i + 3]), json.loads(frames[i + 5])

    def poll(self, deadline):
        """(socket, (header, parent, content)) pairs ready before deadline."""
        left = deadline - time.perf_counter()
        if left <= 0:
            raise BenchTimeout("no message before the deadline")
        out = []
        for s, _ in self.poller.poll(max(1, int(left * 1000))):
            out.append((s, self.parse(s.recv_multipart())))
        return out

    # -- requests -----------------------------------------------------------
    def execute_request(self, code):
        return self.send(
            self.shell,
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )

    def wait_reply_and_idle(self, mid, timeout=30.0, on_iopub=None):
        """Waits for the shell reply to mid and the iopub idle with parent mid.
        Returns (reply_content, t_reply, t_idle) with perf_counter times.
        on_iopub(header, content, t) sees every other iopub message for mid."""
        deadline = time.perf_counter() + timeout
        reply = t_reply = t_idle = None
        while reply is None or t_idle is None:
            for s, (h, p, c) in self.poll(deadline):
                if p.get("msg_id") != mid:
                    continue
                t = time.perf_counter()
                if s is self.shell:
                    reply, t_reply = c, t
                elif h["msg_type"] == "status" and c.get("execution_state") == "idle":
                    t_idle = t
                elif on_iopub is not None:
                    on_iopub(h, c, t)
        return reply, t_reply, t_idle

    def execute(self, code, timeout=30.0):
        """Round trip: returns seconds from send until reply and idle both arrived."""
        t0 = time.perf_counter()
        mid = self.execute_request(code)
        reply, t_reply, t_idle = self.wait_reply_and_idle(mid, timeout)
        if reply.get("status") != "ok":
            raise RuntimeError("execute of %r failed: %r" % (code, reply))
        return max(t_reply, t_idle) - t0

    def wait_ready(self, timeout=30.0):
        """Sends kernel_info_request until an iopub status arrives (the SUB is
        subscribed), then drains everything."""
        deadline = time.perf_counter() + timeout
        while True:
            self.send(self.shell, "kernel_info_request", {})
            ev = dict(self.poller.poll(200))
            if self.iopub in ev:
                break
            if time.perf_counter() > deadline:
                raise BenchTimeout("kernel not ready (no iopub) within %.0f s" % timeout)
        time.sleep(0.2)
        self.drain()

    def drain(self):
        for s in (self.shell, self.iopub):
            if s is None:
                continue
            for _ in range(100000):
                if not s.poll(50):
                    break
                s.recv_multipart()

    def shutdown_request(self):
        return self.send(self.control, "shutdown_request", {"restart": False})
