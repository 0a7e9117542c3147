#!/usr/bin/python3
"""Malformed, forged and replayed messages on the shell socket.

A raw DEALER socket talks to the shell port with the key from the connection
file. Nothing bad may get a reply or disturb the kernel: after each case a
valid kernel_info_request (same raw socket) gets exactly its reply and a
valid execute (through jupyter_client) works.

With BJ_EXPECT_WARNINGS=1 the kernel must also log a warning line on stderr
for a bad signature and for invalid JSON. Always: the key never appears in
the kernel's stderr.
"""

import json
import re
import time

import zmq
from jupyter_client.session import DELIM, Session

import bjtest

QUIET = 0.5 * bjtest.TIME_SCALE  # how long "no reply" is waited for


class RawShell:
    def __init__(self, kernel):
        with open(kernel.km.connection_file) as f:
            info = json.load(f)
        self.key = info["key"]
        self.session = Session(
            key=info["key"].encode(),
            signature_scheme=info.get("signature_scheme", "hmac-sha256"),
            username="bj-raw",
        )
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.linger = 0
        self.sock.connect(kernel.url("shell"))

    def close(self):
        self.sock.close(linger=0)

    def frames(self, msg_type, content=None):
        """(msg_id, correctly signed frames) for a new message."""
        msg = self.session.msg(msg_type, content or {})
        return msg["header"]["msg_id"], self.session.serialize(msg)

    def signed(self, header, parent=b"{}", metadata=b"{}", content=b"{}"):
        parts = [header, parent, metadata, content]
        return [DELIM, self.session.sign(parts)] + parts

    def send(self, frames):
        self.sock.send_multipart(frames)

    def recv_for(self, timeout):
        """Everything that arrives within timeout: list of (msg or None, raw frames)."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.sock.poll(int(left * 1000)):
                return out
            raw = self.sock.recv_multipart()
            try:
                _, m = self.session.feed_identities(raw)
                out.append((self.session.deserialize(m), raw))
            except Exception:
                out.append((None, raw))

    def recv_reply(self, msg_id, timeout=bjtest.TIMEOUT):
        """Wait for the reply to msg_id; return (reply, [anything else received])."""
        extra = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m, raw in self.recv_for(min(0.1, deadline - time.monotonic())):
                if m is not None and bjtest.parent_id(m) == msg_id:
                    return m, extra
                extra.append(m if m is not None else raw)
        raise AssertionError("no reply to %s within %.1fs (got %r)" % (msg_id, timeout, extra))


def _describe(items):
    out = []
    for i in items:
        m = i[0] if isinstance(i, tuple) else i
        out.append(
            (m["msg_type"], bjtest.parent_id(m)) if isinstance(m, dict) else ("unparsable", i)
        )
    return out


class TestRobustness(bjtest.KernelTestCase):
    capture_stderr = True

    def setUp(self):
        super().setUp()
        self.raw = RawShell(self.kernel)
        self.stderr_offset = len(self.kernel.stderr_text())

    def tearDown(self):
        self.raw.close()

    # -- checks -------------------------------------------------------------

    def assertNoReply(self, what):
        got = self.raw.recv_for(QUIET)
        if got:
            self.fail("%s got an answer: %r" % (what, _describe(got)))

    def assertStillWorks(self):
        self.assertIsNone(self.kernel.popen.poll(), "kernel process died")
        msg_id, frames = self.raw.frames("kernel_info_request")
        self.raw.send(frames)
        reply, extra = self.raw.recv_reply(msg_id)
        self.assertEqual(reply["msg_type"], "kernel_info_reply")
        self.assertEqual(extra, [], "unexpected messages before the reply: %r" % _describe(extra))
        late = self.raw.recv_for(0.1)
        if late:
            self.fail("unexpected messages after the reply: %r" % _describe(late))
        r, msgs = self.execute("6*7")
        self.assertOk(r)
        self.assertEqual(
            bjtest.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "42"
        )
        self.assertNotIn(self.raw.key, self.kernel.stderr_text(), "the HMAC key was logged")

    def assertWarned(self, pattern, what):
        """With BJ_EXPECT_WARNINGS=1: a stderr line since setUp matches pattern."""
        if not bjtest.expect_warnings():
            return
        rx = re.compile(pattern, re.I)
        deadline = time.monotonic() + 2 * bjtest.TIME_SCALE
        while True:
            new = self.kernel.stderr_text()[self.stderr_offset :]
            if any(rx.search(line) for line in new.splitlines()):
                return
            if time.monotonic() > deadline:
                self.fail(
                    "no warning on stderr for %s (want /%s/); new stderr: %r"
                    % (what, pattern, new[-2000:])
                )
            time.sleep(0.05)

    # -- cases --------------------------------------------------------------

    def test_a_bad_hmac(self):
        msg_id, frames = self.raw.frames("kernel_info_request")
        sig = frames[1].decode()
        frames[1] = (("0" if sig[0] != "0" else "1") + sig[1:]).encode()  # one hex digit off
        self.raw.send(frames)
        self.assertNoReply("bad signature")
        self.assertWarned(r"signature|hmac", "a bad signature")
        self.assertStillWorks()

    def test_a_empty_and_missing_signature(self):
        msg_id, frames = self.raw.frames("kernel_info_request")
        frames[1] = b""
        self.raw.send(frames)
        self.assertNoReply("empty signature")
        # signed with another key
        other = Session(key=b"not-the-key", signature_scheme=self.raw.session.signature_scheme)
        self.raw.send(other.serialize(other.msg("kernel_info_request", {})))
        self.assertNoReply("wrong key")
        # tampered content under a valid signature
        msg_id, frames = self.raw.frames("execute_request", {"code": "1", "silent": False})
        frames[5] = frames[5].replace(b'"1"', b'"2"')
        self.raw.send(frames)
        self.assertNoReply("tampered content")
        self.assertStillWorks()

    def test_b_truncated(self):
        msg_id, frames = self.raw.frames("kernel_info_request")
        self.raw.send(frames[:3])  # delimiter + signature + header
        self.assertNoReply("truncated message")
        self.raw.send([DELIM])
        self.assertNoReply("delimiter only")
        self.raw.send([b"no-delimiter-here"])
        self.assertNoReply("single garbage frame")
        self.assertStillWorks()

    def test_c_invalid_json(self):
        self.raw.send(self.raw.signed(b"{this is not json"))
        self.assertNoReply("invalid JSON header")
        self.assertWarned(r"json", "invalid JSON")
        self.assertStillWorks()

    def test_c_valid_json_wrong_shape(self):
        self.raw.send(self.raw.signed(b"[1, 2, 3]"))
        self.assertNoReply("header that is a JSON array")
        header = json.dumps(
            {
                "msg_id": "bj-no-type",
                "session": "s",
                "username": "u",
                "version": "5.3",
                "date": "2024-01-01T00:00:00Z",
            }
        ).encode()
        self.raw.send(self.raw.signed(header))
        self.assertNoReply("header without msg_type")
        self.assertStillWorks()

    def test_d_unknown_msg_type(self):
        msg_id, frames = self.raw.frames("bj_no_such_request")
        self.raw.send(frames)
        # a kernel may ignore it (ipykernel) or answer it; any answer must be
        # a well-formed reply to that very message
        for m, raw in self.raw.recv_for(QUIET):
            self.assertIsNotNone(m, "unparsable answer to an unknown msg_type: %r" % raw)
            self.assertEqual(bjtest.parent_id(m), msg_id)
        self.assertStillWorks()

    def test_e_replay(self):
        msg_id, frames = self.raw.frames("kernel_info_request")
        self.raw.send(frames)
        reply, extra = self.raw.recv_reply(msg_id)
        self.assertEqual(reply["msg_type"], "kernel_info_reply")
        self.raw.send(frames)  # exactly the same frames again
        self.assertNoReply("replayed message")
        # also replayed from another connection
        other = RawShell(self.kernel)
        try:
            time.sleep(0.1)
            other.send(frames)
            got = other.recv_for(QUIET)
            if got:
                self.fail("replay on a new connection got an answer: %r" % _describe(got))
        finally:
            other.close()
        self.assertStillWorks()

    def test_f_replayed_execute_does_not_run(self):
        msg_id, frames = self.raw.frames(
            "execute_request",
            {
                "code": "bj_replay_counter = globals().get('bj_replay_counter', 0) + 1",
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )
        self.raw.send(frames)
        reply, _ = self.raw.recv_reply(msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        self.raw.send(frames)
        self.assertNoReply("replayed execute_request")
        r, msgs = self.execute("bj_replay_counter")
        self.assertEqual(
            bjtest.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"],
            "1",
            "a replayed execute_request ran again",
        )
        self.assertStillWorks()


if __name__ == "__main__":
    bjtest.main()
