#!/usr/bin/python3
"""execute_request / kernel_info_request behaviour through jupyter_client."""

import sys
import time
from queue import Empty

import bjtest
from bjtest import get_reply, of_type, parent_id, stream_text, strip_ansi


class TestExecute(bjtest.KernelTestCase):
    def test_kernel_info(self):
        msg_id = self.kc.kernel_info()
        reply = get_reply(self.kc.shell_channel, msg_id)
        self.assertEqual(reply["msg_type"], "kernel_info_reply")
        c = reply["content"]
        self.assertEqual(c.get("status", "ok"), "ok")
        self.assertTrue(str(c["protocol_version"]).startswith("5."), c["protocol_version"])
        self.assertIsInstance(c["implementation"], str)
        self.assertTrue(c["implementation"])
        self.assertIsInstance(c["implementation_version"], str)
        self.assertIsInstance(c["banner"], str)
        self.assertTrue(c["banner"].strip(), "empty banner")
        li = c["language_info"]
        self.assertEqual(li["name"], "python")
        self.assertEqual(li["file_extension"], ".py")
        self.assertIn("mimetype", li)
        # the advertised version is the interpreter that really runs the code
        r, msgs = self.execute("import sys; print(sys.version.split()[0])")
        self.assertOk(r)
        self.assertEqual(li["version"], stream_text(msgs).strip())
        # header of the reply
        self.assertTrue(reply["header"]["version"].startswith("5."))
        self.assertEqual(reply["header"]["session"], reply["header"]["session"].strip())
        self.assertTrue(reply["header"]["session"])

    def test_execute_result(self):
        reply, msgs = self.execute("1+1")
        self.assertOk(reply)
        count = reply["content"]["execution_count"]
        self.assertIsInstance(count, int)
        self.assertGreaterEqual(count, 1)
        results = of_type(msgs, "execute_result")
        self.assertEqual(len(results), 1, [m["msg_type"] for m in msgs])
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "2")
        self.assertEqual(results[0]["content"]["execution_count"], count)
        self.assertIsInstance(results[0]["content"]["metadata"], dict)
        # the counter advances by one per stored cell
        reply2, msgs2 = self.execute("3*7")
        self.assertEqual(reply2["content"]["execution_count"], count + 1)
        self.assertEqual(of_type(msgs2, "execute_result")[0]["content"]["data"]["text/plain"], "21")

    def test_iopub_order(self):
        code = "print('out')\n40+2"
        others = []
        msg_id = self.kc.execute(code)
        reply = get_reply(self.kc.shell_channel, msg_id, others=others)
        msgs = bjtest.collect_iopub(self.kc, msg_id, others=others)
        self.assertEqual(others, [], "messages for other parents appeared")
        types = [m["msg_type"] for m in msgs]
        self.assertEqual(types[0], "status", types)
        self.assertEqual(msgs[0]["content"]["execution_state"], "busy")
        self.assertEqual(types[1], "execute_input", types)
        self.assertEqual(msgs[1]["content"]["code"], code)
        self.assertEqual(msgs[1]["content"]["execution_count"], reply["content"]["execution_count"])
        self.assertEqual(types[-1], "status", types)
        self.assertEqual(msgs[-1]["content"]["execution_state"], "idle")
        middle = types[2:-1]
        self.assertNotIn("status", middle, types)
        self.assertNotIn("execute_input", middle, types)
        self.assertIn("stream", middle, types)
        self.assertIn("execute_result", middle, types)
        # print() ran before the value was displayed
        self.assertLess(middle.index("stream"), middle.index("execute_result"), types)
        self.assertEqual(stream_text(msgs), "out\n")
        for m in msgs:
            self.assertEqual(parent_id(m), msg_id)
            self.assertEqual(m["parent_header"]["msg_type"], "execute_request")
            self.assertTrue(m["header"]["version"].startswith("5."))
            self.assertEqual(m["header"]["msg_type"], m["msg_type"])

    def test_stdout(self):
        reply, msgs = self.execute("print('hi')")
        self.assertOk(reply)
        self.assertEqual(stream_text(msgs, "stdout"), "hi\n")
        self.assertEqual(stream_text(msgs, "stderr"), "")
        self.assertEqual(of_type(msgs, "execute_result"), [])

    def test_stderr(self):
        reply, msgs = self.execute("import sys\nprint('oops', file=sys.stderr)")
        self.assertOk(reply)
        self.assertEqual(stream_text(msgs, "stderr"), "oops\n")
        self.assertEqual(stream_text(msgs, "stdout"), "")

    def test_error_traceback(self):
        code = "a = 1\nb = 0\na / b\n"
        reply, msgs = self.execute(code)
        c = reply["content"]
        self.assertEqual(c["status"], "error")
        self.assertEqual(c["ename"], "ZeroDivisionError")
        errors = of_type(msgs, "error")
        self.assertEqual(len(errors), 1, [m["msg_type"] for m in msgs])
        e = errors[0]["content"]
        self.assertEqual(e["ename"], "ZeroDivisionError")
        self.assertIn("division", e["evalue"])
        tb = e["traceback"]
        self.assertIsInstance(tb, list)
        self.assertTrue(tb, "empty traceback")
        for line in tb:
            self.assertIsInstance(line, str)
        text = strip_ansi("\n".join(tb))
        self.assertIn("a / b", text)
        self.assertIn("ZeroDivisionError", text)
        for word in bjtest.forbidden_traceback_words():
            self.assertNotIn(word, text, "internal name in user traceback")
        self.assertEqual(of_type(msgs, "execute_result"), [])
        # the kernel carries on
        reply, msgs = self.execute("'after'")
        self.assertOk(reply)

    def test_error_in_function(self):
        code = (
            "def inner():\n    raise ValueError('bj-value')\n\ndef outer():\n    inner()\n\nouter()"
        )
        reply, msgs = self.execute(code)
        self.assertEqual(reply["content"]["status"], "error")
        e = of_type(msgs, "error")[0]["content"]
        self.assertEqual(e["ename"], "ValueError")
        self.assertEqual(e["evalue"], "bj-value")
        text = strip_ansi("\n".join(e["traceback"]))
        self.assertIn("inner()", text)
        self.assertIn("raise ValueError('bj-value')", text)
        for word in bjtest.forbidden_traceback_words():
            self.assertNotIn(word, text)

    def test_system_exit(self):
        reply, msgs = self.execute("raise SystemExit(3)")
        self.assertEqual(reply["content"]["status"], "error", reply["content"])
        errors = of_type(msgs, "error")
        self.assertEqual(len(errors), 1, [m["msg_type"] for m in msgs])
        self.assertEqual(errors[0]["content"]["ename"], "SystemExit")
        time.sleep(0.3)
        self.assertIsNone(self.kernel.popen.poll(), "kernel process exited on SystemExit")
        self.assertTrue(self.kc.is_alive())
        self.assertTrue(bjtest.heartbeat_ping(self.kernel), "no heartbeat after SystemExit")
        reply, msgs = self.execute("6*7")
        self.assertOk(reply)
        self.assertEqual(of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "42")

    def test_store_history_false(self):
        r1, _ = self.execute("1")
        n = r1["content"]["execution_count"]
        r2, msgs2 = self.execute("2", store_history=False)
        self.assertOk(r2)
        r3, _ = self.execute("3")
        self.assertEqual(r3["content"]["execution_count"], n + 1)

    def test_silent(self):
        r1, _ = self.execute("1")
        n = r1["content"]["execution_count"]
        r2, msgs2 = self.execute("1+1", silent=True)
        self.assertOk(r2)
        self.assertEqual(of_type(msgs2, "execute_result"), [], [m["msg_type"] for m in msgs2])
        self.assertEqual(of_type(msgs2, "execute_input"), [], [m["msg_type"] for m in msgs2])
        r3, msgs3 = self.execute("3")
        self.assertEqual(r3["content"]["execution_count"], n + 1)
        self.assertEqual(of_type(msgs3, "execute_result")[0]["content"]["execution_count"], n + 1)

    def test_many_lines(self):
        n = 100000
        t0 = time.monotonic()
        reply, msgs = self.execute(
            "for i in range(%d):\n    print(i)" % n, timeout=25 * bjtest.TIME_SCALE
        )
        dt = time.monotonic() - t0
        self.assertOk(reply)
        for m in of_type(msgs, "stream"):
            self.assertEqual(m["content"]["name"], "stdout")
        text = stream_text(msgs)
        expected = "".join("%d\n" % i for i in range(n))
        if text != expected:
            lines = text.split("\n")
            self.fail(
                "stream text differs: %d chars vs %d expected, %d lines, first lines %r, last %r"
                % (len(text), len(expected), len(lines), lines[:3], lines[-3:])
            )
        sys.stderr.write(
            "[info] %d lines in %.3fs (%d stream messages)\n"
            % (n, dt, len(of_type(msgs, "stream")))
        )

    def test_stream_arrives_while_running(self):
        S = bjtest.TIME_SCALE
        msg_id = self.kc.execute("import time\nprint('x')\ntime.sleep(%g)" % S)
        t0 = time.monotonic()
        t_stream = None
        seen = []
        while t_stream is None:
            if time.monotonic() - t0 > bjtest.TIMEOUT:
                self.fail("no stream message; got %r" % seen)
            try:
                m = bjtest.get_msg(self.kc.iopub_channel, timeout=0.05)
            except Empty:
                continue
            if parent_id(m) != msg_id:
                continue
            seen.append(m["msg_type"])
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                self.fail("idle before any stream: %r" % seen)
            if m["msg_type"] == "stream":
                t_stream = time.monotonic() - t0
                if S == 1:
                    self.assertEqual(m["content"]["text"], "x\n")
                else:  # slowed down (valgrind), print's two writes may part
                    self.assertIn(m["content"]["text"], ("x", "x\n"))
                reply_already_there = bjtest.msg_ready(self.kc.shell_channel)
        self.assertFalse(reply_already_there, "execute_reply arrived before the first print")
        reply = get_reply(self.kc.shell_channel, msg_id)
        t_reply = time.monotonic() - t0
        self.assertOk(reply)
        bjtest.collect_iopub(self.kc, msg_id)
        self.assertLess(t_stream, 0.9 * S, "first print took %.3fs to arrive" % t_stream)
        self.assertLess(t_stream, t_reply)
        sys.stderr.write("[info] first print after %.1f ms\n" % (t_stream * 1000))

    def test_output_parent_attribution(self):
        # two cells pipelined: A's output (unterminated line, printed late) must
        # stay with A, B's with B, and A must be finished before B starts
        a = self.kc.execute("import time\ntime.sleep(0.3)\nprint('first-A', end='')")
        b = self.kc.execute("print('second-B')")
        ra = get_reply(self.kc.shell_channel, a)
        rb = get_reply(self.kc.shell_channel, b)
        self.assertOk(ra)
        self.assertOk(rb)
        allmsgs = []
        idle = set()
        t0 = time.monotonic()
        while idle != {a, b}:
            if time.monotonic() - t0 > bjtest.TIMEOUT:
                self.fail(
                    "missing idle status: %r" % [(m["msg_type"], parent_id(m)) for m in allmsgs]
                )
            try:
                m = bjtest.get_msg(self.kc.iopub_channel, timeout=0.1)
            except Empty:
                continue
            allmsgs.append(m)
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                idle.add(parent_id(m))
        mine = [m for m in allmsgs if parent_id(m) in (a, b)]
        self.assertEqual(stream_text([m for m in mine if parent_id(m) == a]), "first-A")
        self.assertEqual(stream_text([m for m in mine if parent_id(m) == b]), "second-B\n")
        parents = [parent_id(m) for m in mine]
        last_a = max(i for i, p in enumerate(parents) if p == a)
        first_b = min(i for i, p in enumerate(parents) if p == b)
        self.assertLess(
            last_a,
            first_b,
            "iopub of cells A and B interleaved: %r"
            % ([(m["msg_type"], "A" if parent_id(m) == a else "B") for m in mine],),
        )


if __name__ == "__main__":
    bjtest.main()
