"""Protocol 5.5: iopub_welcome to each new subscriber (JEP 65), usage_request on
control (as ipykernel 6.22+ answers it for jupyter-resource-usage), and
kernel_info's protocol_version and supported_features (JEP 92).

Where the reference ipykernel on this machine answers the same request, our
reply must carry every field its reply does, with values of the same kind."""

import os
import socket
import time

import bjtest  # noqa: I100  (first: it puts tests/ on sys.path for bjkernelspec)
import bjkernelspec
import zmq
from bjtest import control_request, get_reply
from jupyter_client.session import Session


def subscriber(kernel, topic=b""):
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, topic)
    sub.connect(kernel.url("iopub"))
    return sub


def iopub_messages(kernel, sub, seconds):
    """Every message the subscriber gets within `seconds`, as (identities, msg)."""
    key = kernel.connection_info()["key"]
    key = key if isinstance(key, bytes) else key.encode()
    got = []
    deadline = time.monotonic() + seconds
    while sub.poll(max(0, int((deadline - time.monotonic()) * 1000))):
        # A session per message: the welcome to another subscriber reaches this
        # one too, with a signature this test already saw.
        session = Session(key=key)
        identities, frames = session.feed_identities(sub.recv_multipart())
        got.append((identities, session.deserialize(frames)))
    return got


def reference_kernelspec():
    return bjkernelspec.add_kernelspec("bj-ipykernel-reference", bjkernelspec.IPYKERNEL_ARGV)


def usage(kc, timeout=5):
    msg_id = control_request(kc, "usage_request")
    return get_reply(kc.control_channel, msg_id, timeout=timeout)


class IopubWelcome(bjtest.KernelTestCase):
    def test_each_subscriber_gets_a_welcome_first(self):
        subs = [subscriber(self.kernel) for _ in range(2)]
        try:
            for sub in subs:
                messages = iopub_messages(self.kernel, sub, 1.0)
                self.assertTrue(messages, "no iopub_welcome within 1 s")
                identities, first = messages[0]
                self.assertEqual(first["msg_type"], "iopub_welcome")
                self.assertEqual(first["header"]["msg_type"], "iopub_welcome")
                self.assertEqual(first["parent_header"], {})
                self.assertEqual(first["content"], {"subscription": ""})
                self.assertEqual(identities, [])
        finally:
            for sub in subs:
                sub.close()

    def test_topic_subscription_is_welcomed_under_its_topic(self):
        sub = subscriber(self.kernel, b"kernel.")
        try:
            messages = iopub_messages(self.kernel, sub, 1.0)
            self.assertEqual(len(messages), 1, messages)
            identities, welcome = messages[0]
            self.assertEqual(identities, [b"kernel."])
            self.assertEqual(welcome["content"], {"subscription": "kernel."})
        finally:
            sub.close()

    def test_output_right_after_the_welcome_is_not_lost(self):
        # The race JEP 65 closes: a client that waits for its welcome and then
        # executes sees every output of the cell.
        sub = subscriber(self.kernel)
        try:
            self.assertEqual(
                iopub_messages(self.kernel, sub, 1.0)[0][1]["msg_type"], "iopub_welcome"
            )
            msg_id = self.kc.execute("print('after welcome')")
            texts = []
            for _, msg in iopub_messages(self.kernel, sub, 3.0):
                if msg["msg_type"] == "stream" and bjtest.parent_id(msg) == msg_id:
                    texts.append(msg["content"]["text"])
            self.assertEqual("".join(texts), "after welcome\n")
        finally:
            sub.close()


class KernelInfo(bjtest.KernelTestCase):
    def test_protocol_version_and_features(self):
        msg_id = self.kc.kernel_info()
        content = get_reply(self.kc.shell_channel, msg_id)["content"]
        self.assertEqual(content["protocol_version"], "5.5")
        self.assertIsInstance(content["supported_features"], list)
        # bpy lives on one thread: JupyterLab would route comms to subshells.
        self.assertNotIn("kernel subshells", content["supported_features"])
        self.assertNotIn("debugger", content["supported_features"])


class Executable(bjtest.KernelTestCase):
    def test_sys_executable_runs_python(self):
        # subprocess.run([sys.executable, ...]), multiprocessing's spawn and debugpy
        # all start sys.executable: it must be a Python interpreter.
        reply, msgs = self.execute(
            "import subprocess, sys\n"
            "print(subprocess.run([sys.executable, '-c',"
            " 'import sys; print(sys.version_info[:2])'],"
            " capture_output=True, text=True, check=True).stdout.strip())\n"
            "print(tuple(sys.version_info[:2]))"
        )
        self.assertOk(reply)
        lines = bjtest.stream_text(msgs).splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertEqual(lines[0], lines[1])


class Usage(bjtest.KernelTestCase):
    def test_fields_and_values(self):
        first = usage(self.kc)["content"]
        time.sleep(0.3)
        second = usage(self.kc)["content"]
        self.assertEqual(second["hostname"], socket.gethostname())
        self.assertEqual(second["pid"], self.kernel.popen.pid)
        self.assertEqual(second["cpu_count"], os.cpu_count())
        for reading in (first, second):
            self.assertGreaterEqual(reading["kernel_cpu"], 0.0)
        self.assertGreater(second["kernel_memory"], 1 << 20)
        memory = second["host_virtual_memory"]
        self.assertEqual(
            list(memory),
            [
                "total",
                "available",
                "percent",
                "used",
                "free",
                "active",
                "inactive",
                "buffers",
                "cached",
                "shared",
                "slab",
            ],
        )
        with open("/proc/meminfo") as f:
            total_kb = int(f.readline().split()[1])
        self.assertEqual(memory["total"], total_kb * 1024)
        self.assertTrue(0 <= memory["percent"] <= 100)
        if "host_cpu_percent" in second:
            self.assertTrue(0 < second["host_cpu_percent"] <= 100)

    def test_children_count(self):
        # ipykernel adds its subprocesses (psutil children(recursive=True)).
        before = usage(self.kc)["content"]["kernel_memory"]
        self.kc.execute(
            "import subprocess, sys\n"
            "child = subprocess.Popen([sys.executable, '-c', "
            "'b = bytes(range(256)) * (1 << 18); import time; time.sleep(30)'])"
        )
        try:
            deadline = time.monotonic() + 10
            during = before
            while time.monotonic() < deadline and during < before + (48 << 20):
                time.sleep(0.2)
                during = usage(self.kc)["content"]["kernel_memory"]
            self.assertGreater(during, before + (48 << 20))
        finally:
            bjtest.execute(self.kc, "child.kill(); child.wait()")

    def test_answered_while_a_cell_runs(self):
        msg_id = self.kc.execute("import time; time.sleep(3)")
        time.sleep(0.3)
        started = time.monotonic()
        reply = usage(self.kc, timeout=2)
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertEqual(reply["content"]["pid"], self.kernel.popen.pid)
        get_reply(self.kc.shell_channel, msg_id)

    def test_every_field_ipykernel_sends(self):
        reference = bjtest.Kernel(kernel_name=reference_kernelspec())
        try:
            reply = None
            # ipykernel before 6.22 has no usage_request: it answers nothing.
            msg_id = control_request(reference.kc, "usage_request")
            try:
                reply = get_reply(reference.kc.control_channel, msg_id, timeout=3)
            except AssertionError:
                pass
            if reply is None:
                import ipykernel

                self.assertLess(
                    tuple(int(x) for x in ipykernel.__version__.split(".")[:2]),
                    (6, 22),
                    "ipykernel %s should answer usage_request" % ipykernel.__version__,
                )
                return
            time.sleep(0.3)
            theirs = usage(reference.kc)["content"]
        finally:
            problem = reference.shutdown()
            self.assertIsNone(problem)
        usage(self.kc)
        time.sleep(0.3)
        ours = usage(self.kc)["content"]
        # host_cpu_percent: psutil leaves it out when it reads 0.0.
        for field, value in theirs.items():
            if field == "host_cpu_percent" and field not in ours:
                continue
            self.assertIn(field, ours)
            if isinstance(value, dict):
                self.assertEqual(set(value), set(ours[field]), field)
            elif isinstance(value, (int, float)):
                self.assertIsInstance(ours[field], (int, float), field)
            else:
                self.assertIsInstance(ours[field], type(value), field)


if __name__ == "__main__":
    bjtest.main()
