"""What a hostile or broken client may send: none of it may crash the kernel,
leak, or cost a legitimate client a reply.

Each case sends its bad input on a raw socket, then checks that the kernel is
alive, still answers a legitimate client that kept working all along, and that
its fd count did not grow.
"""
import os
import sys
import threading
import time

import zmq
from jupyter_client.session import Session

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "protocol"))
import bjtest  # noqa: E402

TIMEOUT = bjtest.TIMEOUT


class Attacks(bjtest.KernelTestCase):
    capture_stderr = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        info = cls.km.get_connection_info(session=False)
        cls.key = info["key"] if isinstance(info["key"], bytes) else info["key"].encode()
        cls.ports = {
            name: info[name + "_port"] for name in ("shell", "iopub", "stdin", "control", "hb")
        }
        cls.ip = info["ip"]
        cls.context = zmq.Context()
        cls.pid = cls.kernel.popen.pid
        cls.fds_at_start = len(os.listdir("/proc/%d/fd" % cls.pid))

    @classmethod
    def tearDownClass(cls):
        cls.context.destroy(linger=0)
        super().tearDownClass()

    def raw(self, channel="shell", kind=zmq.DEALER):
        sock = self.context.socket(kind)
        sock.linger = 0
        sock.connect("tcp://%s:%d" % (self.ip, self.ports[channel]))
        self.addCleanup(sock.close)
        return sock

    def signed_frames(self, msg_type, content, key=None, header=None):
        session = Session(key=self.key if key is None else key)
        msg = session.msg(msg_type, content)
        if header is not None:
            msg["header"] = header
        return session.serialize(msg)

    def assertNoReply(self, sock, seconds=0.5):
        self.assertEqual(
            sock.poll(int(seconds * 1000)), 0, "the kernel answered a message it must reject"
        )

    def assertStillServing(self):
        # A legitimate client on a fresh connection gets its answer.
        kc = self.kc
        msg_id = kc.kernel_info()
        reply = bjtest.get_reply(kc.shell_channel, msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        msgs = bjtest.execute(kc, "40 + 2")
        self.assertEqual(msgs[0]["content"]["status"], "ok")
        self.assertIsNone(self.kernel.popen.poll(), "the kernel exited")
        fds = len(os.listdir("/proc/%d/fd" % self.pid))
        self.assertLessEqual(fds, self.fds_at_start + 8, "the kernel's fds grow")

    def test_bad_signature(self):
        sock = self.raw()
        sock.send_multipart(self.signed_frames("kernel_info_request", {}, key=b"not-the-key"))
        self.assertNoReply(sock)
        self.assertStillServing()

    def test_signature_wrong_case_and_length(self):
        for mangle in (lambda s: s.upper(), lambda s: s[:-2], lambda s: s + b"00", lambda s: b""):
            frames = self.signed_frames("kernel_info_request", {})
            index = frames.index(b"<IDS|MSG>") + 1
            frames[index] = mangle(frames[index])
            sock = self.raw()
            sock.send_multipart(frames)
            self.assertNoReply(sock, 0.3)
        self.assertStillServing()

    def test_replay(self):
        sock = self.raw()
        frames = self.signed_frames("kernel_info_request", {})
        sock.send_multipart(frames)
        self.assertTrue(sock.poll(TIMEOUT * 1000), "no reply to the original")
        sock.recv_multipart()
        sock.send_multipart(frames)
        self.assertNoReply(sock)
        other = self.raw()
        other.send_multipart(frames)
        self.assertNoReply(other)
        self.assertStillServing()

    def test_truncated_frames(self):
        frames = self.signed_frames("kernel_info_request", {})
        for cut in range(1, len(frames)):
            sock = self.raw()
            sock.send_multipart(frames[:cut])
            self.assertNoReply(sock, 0.2)
        self.assertStillServing()

    def test_one_gigabyte_frame(self):
        sock = self.raw()
        frames = self.signed_frames("execute_request", {"code": "1"})
        frames.append(bytes(1 << 30))
        sock.send_multipart(frames, copy=False)
        self.assertNoReply(sock, 2)
        self.assertStillServing()

    def test_invalid_utf8_and_deep_nesting(self):
        deep = b'{"a":' + b"[" * 100000 + b"]" * 100000 + b"}"
        for content in (b'{"code": "\xff\xfe"}', deep, b"\x00\x01", b"[1,2", b'"string"'):
            session = Session(key=self.key)
            msg = session.msg("execute_request", {})
            header = session.pack(msg["header"])
            parts = [header, b"{}", b"{}", content]
            signature = session.sign(parts)
            sock = self.raw()
            sock.send_multipart([b"<IDS|MSG>", signature] + parts)
            self.assertNoReply(sock, 0.3)
        self.assertStillServing()

    def test_wrong_types_in_every_field(self):
        cases = [
            ("execute_request", {"code": ["not", "a", "string"]}),
            (
                "execute_request",
                {
                    "code": "1",
                    "silent": "yes",
                    "store_history": 3,
                    "user_expressions": [1],
                    "allow_stdin": None,
                    "stop_on_error": {},
                },
            ),
            ("complete_request", {"code": 5, "cursor_pos": "end"}),
            ("inspect_request", {"code": None, "cursor_pos": -40, "detail_level": "all"}),
            ("is_complete_request", {"code": {"a": 1}}),
            ("history_request", {"hist_access_type": 7, "n": "ten", "pattern": [], "output": "x"}),
            ("comm_info_request", {"target_name": 12}),
            ("comm_open", {"comm_id": 5, "target_name": None, "data": "x"}),
            ("comm_msg", {"comm_id": [], "data": 3}),
        ]
        sock = self.raw()
        for msg_type, content in cases:
            sock.send_multipart(self.signed_frames(msg_type, content))
            # Whatever comes back must be a well-formed reply to it, never a crash.
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline and sock.poll(300):
                frames = sock.recv_multipart()
                self.assertIn(b"<IDS|MSG>", frames)
        time.sleep(0.5)
        self.assertStillServing()

    def test_headers_with_wrong_types(self):
        for header in (
            {"msg_id": 1, "msg_type": "kernel_info_request"},
            {"msg_id": "x", "msg_type": ["kernel_info_request"]},
            {"msg_type": "kernel_info_request"},
        ):
            sock = self.raw()
            sock.send_multipart(self.signed_frames("kernel_info_request", {}, header=header))
            self.assertNoReply(sock, 0.3)
        self.assertStillServing()

    def test_unknown_message_type(self):
        sock = self.raw()
        sock.send_multipart(self.signed_frames("bj_no_such_request", {"a": 1}))
        self.assertNoReply(sock)
        self.assertStillServing()

    def test_stdin_reply_without_request(self):
        sock = self.raw("stdin")
        sock.send_multipart(self.signed_frames("input_reply", {"value": "unasked"}))
        sock.send_multipart(self.signed_frames("execute_request", {"code": "1"}))
        self.assertNoReply(sock)
        self.assertStillServing()

    def test_comm_messages_for_unknown_comms(self):
        sock = self.raw()
        sock.send_multipart(self.signed_frames("comm_msg", {"comm_id": "nobody", "data": {}}))
        sock.send_multipart(self.signed_frames("comm_close", {"comm_id": "nobody", "data": {}}))
        sock.send_multipart(
            self.signed_frames(
                "comm_open", {"comm_id": "x", "target_name": "no-target", "data": {}}
            )
        )
        time.sleep(0.3)
        self.assertStillServing()

    def test_legitimate_client_loses_nothing_under_flood(self):
        # 2000 garbage and 2000 unanswered-but-valid requests from one client,
        # sent without reading, while another executes 50 cells.
        flood = self.raw()
        garbage = [b"<IDS|MSG>", b"nope", b"{}", b"{}", b"{}", b"{}"]
        valid = self.signed_frames("kernel_info_request", {})
        stop = threading.Event()

        def hammer():
            for i in range(2000):
                if stop.is_set():
                    return
                flood.send_multipart(garbage)
                flood.send_multipart(self.signed_frames("is_complete_request", {"code": "x"}))

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            for i in range(50):
                msgs = bjtest.execute(self.kc, "%d * 2" % i)
                self.assertEqual(msgs[0]["content"]["status"], "ok")
        finally:
            stop.set()
            thread.join()
        del valid
        self.assertStillServing()

    def test_warnings_never_show_the_key(self):
        with open(self.kernel.stderr_path, "rb") as f:
            log = f.read()
        self.assertNotIn(self.key, log)


if __name__ == "__main__":
    bjtest.main()
