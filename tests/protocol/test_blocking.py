#!/usr/bin/python3
"""Issue 15: interrupt and stop reach a cell blocked in any of the seven calls of
bjblocking.CELLS, in the standalone kernel and in the _bpy_jupyter module hosted
by /usr/bin/python3 (pumped by iterate() as the Blender add-on does, and by run()
as the headless-Blender kernel process does).

Interrupt: interrupt_request on control; the reply is KeyboardInterrupt within
1 s, the next cell runs, the namespace survives. Stop: shutdown_request (every
host) and SIGTERM (the standalone kernel) end the process within 2 s, leaving no
child behind; so does SIGTERM where the process's loop is the kernel's (the
standalone kernel, Kernel.run()). Around interrupt_request the kernel publishes the same status
messages as ipykernel does on this machine.
"""

import os
import signal
import sys

import bjtest  # noqa: I100  (first: it puts tests/ on sys.path for bjkernelspec)
import bjblocking
import bjkernelspec
from bjtest import control_request, get_reply

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE_DIR = os.environ.get("BJ_MODULE_DIR", "")


def module_kernelspec(mode):
    if not os.path.isdir(MODULE_DIR):
        raise RuntimeError(
            "BJ_MODULE_DIR (%r) must name the folder of the built _bpy_jupyter" % MODULE_DIR
        )
    # A sanitizer build's module needs its runtime loaded first; CPython's own
    # allocations at exit are no leaks of ours.
    preload = os.environ.get("BJ_SANITIZER_PRELOAD", "")
    sanitized = ["env", "LD_PRELOAD=" + preload, "ASAN_OPTIONS=detect_leaks=0"] if preload else []
    return bjkernelspec.add_kernelspec(
        "bj-module-" + mode,
        sanitized
        + [
            "/usr/bin/python3",
            os.path.join(HERE, "module_kernel.py"),
            mode,
            "-f",
            bjkernelspec.PLACEHOLDER,
        ],
    )


class Host:
    """Which kernel a test class starts: the standalone one, or the module."""

    kernel_name = None  # None: the kernel under test (bpy-jupyter-python)
    module_mode = None
    kernel_env = None

    @classmethod
    def start_kernel(cls):
        name = module_kernelspec(cls.module_mode) if cls.module_mode else cls.kernel_name
        env = dict(cls.kernel_env or {})
        if cls.module_mode:
            env["BJ_MODULE_DIR"] = MODULE_DIR
        return bjtest.Kernel(capture_stderr=True, env=env, kernel_name=name)


def interrupt_via_control(kc):
    def send():
        msg_id = control_request(kc, "interrupt_request")
        reply = get_reply(kc.control_channel, msg_id, timeout=5 * bjtest.TIME_SCALE)
        assert reply["msg_type"] == "interrupt_reply", reply

    return send


class InterruptBlocked(Host):
    """One kernel for all seven cells: each interrupt leaves it serving."""

    @classmethod
    def setUpClass(cls):
        cls.kernel = cls.start_kernel()

    @classmethod
    def tearDownClass(cls):
        problem = cls.kernel.shutdown()
        if problem:
            raise AssertionError("teardown: " + problem)

    def test_interrupt_each_blocking_call(self):
        kc = self.kernel.kc
        for blocking in bjblocking.CELLS:
            with self.subTest(call=blocking.name):
                latency = bjblocking.check_interrupt(self, kc, blocking, interrupt_via_control(kc))
                sys.stderr.write(
                    "[info] %s: interrupt of %s ended it in %.0f ms\n"
                    % (type(self).__name__, blocking.name, latency * 1000)
                )
                self.assertTrue(bjtest.heartbeat_ping(self.kernel))


class StopBlocked(Host):
    """A kernel per stop: each ends the process."""

    stops = ("shutdown_request",)

    def stop_one(self, blocking, how):
        kernel = self.start_kernel()
        try:
            if how == "shutdown_request":
                stop = lambda: kernel.send_shutdown(restart=False)  # noqa: E731
            else:
                stop = lambda: os.kill(kernel.popen.pid, signal.SIGTERM)  # noqa: E731
            # The cell's client gets its KeyboardInterrupt before the kernel goes.
            latency = bjblocking.check_stop(
                self, kernel.kc, blocking, stop, lambda: kernel.popen.poll() is not None
            )
            self.assertEqual(kernel.popen.returncode, 0, kernel.stderr_text())
            sys.stderr.write(
                "[info] %s: %s of %s: process gone in %.0f ms\n"
                % (type(self).__name__, how, blocking.name, latency * 1000)
            )
        finally:
            problem = kernel.shutdown(already_requested=True)
        self.assertIsNone(problem)

    def test_stop_each_blocking_call(self):
        for how in self.stops:
            for blocking in bjblocking.CELLS:
                with self.subTest(stop=how, call=blocking.name):
                    self.stop_one(blocking, how)


class StandaloneInterrupt(InterruptBlocked, bjtest.unittest.TestCase):
    pass


class StandaloneStop(StopBlocked, bjtest.unittest.TestCase):
    stops = ("shutdown_request", "SIGTERM")


class ModuleIterateInterrupt(InterruptBlocked, bjtest.unittest.TestCase):
    module_mode = "iterate"


class ModuleIterateStop(StopBlocked, bjtest.unittest.TestCase):
    module_mode = "iterate"


class ModuleRunInterrupt(InterruptBlocked, bjtest.unittest.TestCase):
    module_mode = "run"


class ModuleRunStop(StopBlocked, bjtest.unittest.TestCase):
    module_mode = "run"
    stops = ("shutdown_request", "SIGTERM")  # run() stops on SIGTERM like the standalone kernel


class StatusAroundInterrupt(bjtest.unittest.TestCase):
    """What a frontend sees on iopub for an interrupt_request: the same status
    messages, parented to it, as ipykernel sends on this machine."""

    def statuses(self, kernel_name):
        kernel = bjtest.Kernel(kernel_name=kernel_name)
        try:
            kc = kernel.kc
            cell = bjblocking.Cell(kc, bjblocking.CELLS[0]).start()
            msg_id = control_request(kc, "interrupt_request")
            get_reply(kc.control_channel, msg_id)
            cell.finish()
            seen = []
            for msg in cell.others + bjtest.flush_iopub(kc, quiet=0.5):
                if msg["msg_type"] == "status" and bjtest.parent_id(msg) == msg_id:
                    seen.append(msg["content"]["execution_state"])
            return seen
        finally:
            problem = kernel.shutdown()
            self.assertIsNone(problem)

    def test_same_as_ipykernel(self):
        reference = bjkernelspec.add_kernelspec(
            "bj-ipykernel-reference", bjkernelspec.IPYKERNEL_ARGV
        )
        ours = self.statuses(None)
        theirs = self.statuses(reference)
        sys.stderr.write(
            "[info] status parented to interrupt_request: ours %r, ipykernel %r\n" % (ours, theirs)
        )
        self.assertEqual(ours, theirs)


if __name__ == "__main__":
    bjtest.main()
