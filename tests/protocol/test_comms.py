#!/usr/bin/python3
"""Comms through a raw jupyter_client: both directions, binary buffers, comm_info.

Targets are registered in cells through the ``comm`` package (python3-comm),
which the kernel hooks when a cell imports it, as libraries written for it
(ipywidgets 8) do.
"""

import time
import uuid

import bjtest
from bjtest import get_reply, of_type, parent_id, stream_text

ECHO_TARGET = r'''
import comm
events = []
opened_metadata = []

def echo_target(c, msg):
    events.append(("open", msg["content"]["data"], [bytes(b) for b in msg["buffers"]]))
    opened_metadata.append(msg["metadata"])
    c.send({"opened": msg["content"]["data"]}, buffers=[b"open-buf"])

    def on_msg(m):
        print("handler saw", m["content"]["data"])
        c.send({"echo": m["content"]["data"]}, buffers=[bytes(b)[::-1] for b in m["buffers"]])

    c.on_msg(on_msg)
    c.on_close(lambda m: events.append(("close", m["content"]["data"])))

def failing_target(c, msg):
    raise RuntimeError("bj-target-failed")

comm.get_comm_manager().register_target("bj.echo", echo_target)
comm.get_comm_manager().register_target("bj.failing", failing_target)
'''


class TestComms(bjtest.KernelTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        reply, msgs = bjtest.execute(cls.kc, ECHO_TARGET)
        if reply["content"]["status"] != "ok":
            raise AssertionError("registering the targets failed: %r" % (reply["content"],))

    def send_shell(self, msg_type, content, buffers=None, metadata=None):
        """Send on shell with binary buffers (jupyter_client's channel.send has none)."""
        msg = self.kc.session.msg(msg_type, content, metadata=metadata)
        self.kc.session.send(self.kc.shell_channel.socket, msg, buffers=buffers or [])
        return msg["header"]["msg_id"]

    def request(self, msg_type, content, buffers=None, metadata=None):
        """Send and collect the iopub messages it caused (through its idle)."""
        msg_id = self.send_shell(msg_type, content, buffers, metadata)
        return msg_id, bjtest.collect_iopub(self.kc, msg_id)

    def comm_info(self, target_name=None):
        content = {} if target_name is None else {"target_name": target_name}
        msg_id = self.send_shell("comm_info_request", content)
        reply = get_reply(self.kc.shell_channel, msg_id)
        bjtest.collect_iopub(self.kc, msg_id)
        self.assertEqual(reply["msg_type"], "comm_info_reply")
        self.assertEqual(reply["content"]["status"], "ok")
        return reply["content"]["comms"]

    def value(self, expression):
        reply, msgs = self.execute(expression)
        self.assertOk(reply)
        return of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"]

    def test_frontend_initiated_echo(self):
        comm_id = uuid.uuid4().hex
        msg_id, msgs = self.request(
            "comm_open",
            {"comm_id": comm_id, "target_name": "bj.echo", "data": {"hello": 1}},
            buffers=[b"\x00\x01"],
        )
        sent = of_type(msgs, "comm_msg")
        self.assertEqual(len(sent), 1, [m["msg_type"] for m in msgs])
        self.assertEqual(sent[0]["content"], {"comm_id": comm_id, "data": {"opened": {"hello": 1}}})
        self.assertEqual([bytes(b) for b in sent[0]["buffers"]], [b"open-buf"])
        self.assertEqual(parent_id(sent[0]), msg_id)

        self.assertEqual(self.comm_info(), {comm_id: {"target_name": "bj.echo"}})
        self.assertEqual(self.comm_info("bj.echo"), {comm_id: {"target_name": "bj.echo"}})
        self.assertEqual(self.comm_info("bj.other"), {})

        # messages with buffers both ways; a print in the handler reaches the frontend
        msg_id, msgs = self.request(
            "comm_msg", {"comm_id": comm_id, "data": {"x": [1, 2]}}, buffers=[b"abc", b"\xff\x00"]
        )
        echoed = of_type(msgs, "comm_msg")
        self.assertEqual(len(echoed), 1, [m["msg_type"] for m in msgs])
        self.assertEqual(
            echoed[0]["content"], {"comm_id": comm_id, "data": {"echo": {"x": [1, 2]}}}
        )
        self.assertEqual([bytes(b) for b in echoed[0]["buffers"]], [b"cba", b"\x00\xff"])
        self.assertEqual(stream_text(msgs), "handler saw {'x': [1, 2]}\n")

        msg_id, msgs = self.request("comm_close", {"comm_id": comm_id, "data": {"bye": True}})
        self.assertEqual(of_type(msgs, "comm_close"), [], "the kernel echoed a close it received")
        self.assertEqual(self.comm_info(), {})
        self.assertEqual(
            self.value("events"),
            "[('open', {'hello': 1}, [b'\\x00\\x01']), ('close', {'bye': True})]",
        )
        # a message for a closed comm is ignored
        msg_id, msgs = self.request("comm_msg", {"comm_id": comm_id, "data": {}})
        self.assertEqual(of_type(msgs, "comm_msg"), [])
        self.execute("events.clear()")

    def test_target_sees_the_frontends_metadata(self):
        # ipywidgets reads the widget protocol version of a frontend's comm_open there.
        self.execute("opened_metadata.clear()")
        comm_id = uuid.uuid4().hex
        self.request(
            "comm_open",
            {"comm_id": comm_id, "target_name": "bj.echo", "data": {}},
            metadata={"version": "2.1.0", "nested": {"a": [1]}},
        )
        self.assertEqual(
            self.value("opened_metadata"), "[{'version': '2.1.0', 'nested': {'a': [1]}}]"
        )
        self.request("comm_close", {"comm_id": comm_id, "data": {}})
        self.execute("opened_metadata.clear(); events.clear()")

    def test_kernel_initiated(self):
        reply, msgs = self.execute(
            "import comm\n"
            "c = comm.create_comm(target_name='bj.kernel', data={'k': 1}, metadata={'m': 2},"
            " buffers=[memoryview(b'xyz')])\n"
            "c.send({'n': float('nan')}, buffers=[bytearray(b'12')])\n"
            "c.comm_id"
        )
        self.assertOk(reply)
        comm_id = of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"].strip("'")
        opened = of_type(msgs, "comm_open")
        self.assertEqual(len(opened), 1)
        self.assertEqual(opened[0]["content"]["comm_id"], comm_id)
        self.assertEqual(opened[0]["content"]["target_name"], "bj.kernel")
        self.assertEqual(opened[0]["content"]["data"], {"k": 1})
        self.assertEqual(opened[0]["metadata"], {"m": 2})
        self.assertEqual([bytes(b) for b in opened[0]["buffers"]], [b"xyz"])
        sent = of_type(msgs, "comm_msg")
        self.assertEqual(sent[0]["content"]["data"], {"n": None}, "NaN must become JSON null")
        self.assertEqual([bytes(b) for b in sent[0]["buffers"]], [b"12"])
        self.assertEqual(self.comm_info("bj.kernel"), {comm_id: {"target_name": "bj.kernel"}})

        # the frontend answers; the kernel side hears it
        self.assertOk(
            self.execute("got = []\nc.on_msg(lambda m: got.append(m['content']['data']))")[0]
        )
        self.request("comm_msg", {"comm_id": comm_id, "data": {"from": "frontend"}})
        self.assertEqual(self.value("got"), "[{'from': 'frontend'}]")

        reply, msgs = self.execute("c.close({'done': 1})\nc.close()")  # closing twice sends once
        closed = of_type(msgs, "comm_close")
        self.assertEqual(
            [m["content"] for m in closed], [{"comm_id": comm_id, "data": {"done": 1}}]
        )
        self.assertEqual(self.comm_info("bj.kernel"), {})

    def test_unknown_target_and_failing_target(self):
        for target, text in (
            ("bj.nowhere", "No such comm target registered: bj.nowhere"),
            ("bj.failing", "bj-target-failed"),
        ):
            comm_id = uuid.uuid4().hex
            msg_id, msgs = self.request(
                "comm_open", {"comm_id": comm_id, "target_name": target, "data": {}}
            )
            closed = of_type(msgs, "comm_close")
            self.assertEqual([m["content"]["comm_id"] for m in closed], [comm_id], target)
            self.assertIn(text, stream_text(msgs, "stderr"))
            self.assertEqual(self.comm_info(target), {})
        # the kernel is fine
        self.assertEqual(self.value("6*7"), "42")

    def test_comm_info_while_idle_is_fast(self):
        t0 = time.monotonic()
        for _ in range(20):
            self.comm_info()
        self.assertLess(time.monotonic() - t0, 2 * bjtest.TIME_SCALE)


if __name__ == "__main__":
    bjtest.main()
