#!/usr/bin/python3
"""A kernel hosted by this very interpreter through PyGObject (suite 'gir').

BpyJupyter.Kernel with BpyJupyterPython.PythonExecutor, both from the build's
typelibs, runs cells in this process on the main thread while a GLib main loop
runs. jupyter_client drives it from a subprocess (giclient.py), whose output is read
with Gio.Subprocess so the loop keeps iterating while the client waits.
"""

import gc
import io
import json
import os
import sys
import threading
import time
import types
import unittest

import gitest

BpyJupyter, BpyJupyterPython = gitest.import_gi("BpyJupyter", "BpyJupyterPython")
from gi.repository import Gio, GLib, GObject, Json  # noqa: E402


def json_object(value):
    return Json.from_string(json.dumps(value)).get_object()


class EchoExecutor(GObject.Object, BpyJupyter.Executor):
    """An executor written in Python through GI (docs/reference/executors.md)."""

    def do_get_kernel_info(self):
        return json_object({"language_info": {"name": "echo", "file_extension": ".txt"}})

    def do_execute(self, kernel, request, execution_count):
        code = request.get_content().get_string_member("code")
        kernel.write_stream(BpyJupyter.Stream.STDOUT, code.upper() + "\n", -1)
        return json_object({"status": "ok"})

    def do_handle_message(self, kernel, request):
        if request.get_msg_type() == "comm_info_request":
            return True, json_object({"status": "ok", "comms": {}})
        return False, None


# What cells reach of the host: `import bj_gir_host`.
host = types.ModuleType("bj_gir_host")
sys.modules["bj_gir_host"] = host


class PyGObjectKernelTest(gitest.TempDirTestCase):
    def setUp(self):
        super().setUp()
        host.__dict__.clear()
        host.__dict__["__name__"] = "bj_gir_host"

    def tearDown(self):
        host.__dict__.clear()
        gc.collect()
        super().tearDown()

    # -- helpers -------------------------------------------------------------

    def iterate_until(self, done, timeout=gitest.TIMEOUT, what="the main loop"):
        """Iterates the default main context until done() is true; fails after timeout s."""
        deadline = time.monotonic() + timeout
        context = GLib.MainContext.default()
        tick = GLib.timeout_add(10, lambda: GLib.SOURCE_CONTINUE)  # keeps the deadline checked
        try:
            while not done():
                if time.monotonic() > deadline:
                    self.fail(f"timed out waiting for {what}")
                context.iteration(True)
        finally:
            GLib.source_remove(tick)

    def client(self, connection_file, steps, timeout=gitest.TIMEOUT):
        """Runs giclient.py; the kernel keeps being served while it runs."""
        process = Gio.Subprocess.new(
            gitest.client_command(connection_file, steps),
            Gio.SubprocessFlags.STDOUT_PIPE | Gio.SubprocessFlags.STDERR_PIPE,
        )
        outcome = {}

        def communicated(process, result):
            ok, stdout, stderr = process.communicate_utf8_finish(result)
            outcome.update(stdout=stdout, stderr=stderr, status=process.get_exit_status())

        process.communicate_utf8_async(None, None, communicated)
        try:
            self.iterate_until(lambda: outcome, timeout, "the jupyter_client subprocess")
        finally:
            if not outcome:
                process.force_exit()
        self.assertEqual(outcome["status"], 0, f"client failed:\n{outcome['stderr']}")
        return json.loads(outcome["stdout"])

    def new_kernel(self, name="kernel.json"):
        executor = BpyJupyterPython.PythonExecutor.new()
        kernel = BpyJupyter.Kernel.new(executor)
        connection_file = os.path.join(self.tmp, name)
        kernel.set_connection_file(connection_file)
        self.addCleanup(self.stop_if_running, kernel)
        return kernel, connection_file

    @staticmethod
    def stop_if_running(kernel):
        if kernel.get_state() != BpyJupyter.KernelState.STOPPED:
            kernel.stop()

    def finish(self, finish_function, result_holder, what):
        self.iterate_until(lambda: result_holder, what=what)
        return finish_function(result_holder[0])

    # -- tests ---------------------------------------------------------------

    def test_gil_is_released_around_calls_into_c(self):
        # What the executor relies on: PyGObject drops the GIL while C runs (here
        # g_usleep, in real use g_main_loop_run), so the executor takes it itself.
        count = [0]
        started = threading.Event()
        stop = threading.Event()

        def spin():
            started.set()
            while not stop.is_set():
                count[0] += 1

        thread = threading.Thread(target=spin)
        thread.start()
        started.wait()
        before = count[0]
        GLib.usleep(300_000)
        during = count[0] - before
        stop.set()
        thread.join()
        self.assertGreater(during, 1000, "another Python thread could not run during a C call")

    def test_execute_through_the_main_loop(self):
        kernel, connection_file = self.new_kernel()
        states = []
        executions = []
        kernel.connect(
            "state-changed", lambda k, state: states.append(BpyJupyter.KernelState.to_string(state))
        )
        kernel.connect("execute-started", lambda k, count: executions.append(("started", count)))
        kernel.connect(
            "execute-finished",
            lambda k, count, status: executions.append(("finished", count, status)),
        )
        host.main_ident = threading.main_thread().ident

        kernel.start()
        self.assertEqual(states, ["starting", "idle"])
        self.assertEqual(kernel.get_state(), BpyJupyter.KernelState.IDLE)
        self.assertTrue(os.path.exists(connection_file))
        self.assertEqual(kernel.get_owner_context(), GLib.MainContext.default())

        info, ok, error = self.client(
            connection_file,
            [
                {"op": "kernel_info"},
                {
                    "op": "execute",
                    "code": (
                        "import threading, bj_gir_host\n"
                        "bj_gir_host.ran_on = threading.get_ident()\n"
                        "print('hello from', __name__)\n"
                        "6 * 7"
                    ),
                },
                {"op": "execute", "code": "1 / 0"},
            ],
        )

        self.assertEqual(info["language_info"]["name"], "python")
        self.assertEqual(info["implementation"], "bpy-jupyter")

        self.assertEqual(ok["reply"]["status"], "ok", ok)
        self.assertEqual(gitest.stream_text(ok["iopub"]), "hello from __main__\n")
        results = gitest.of_type(ok["iopub"], "execute_result")
        self.assertEqual([r["data"]["text/plain"] for r in results], ["42"])
        # The cell ran in this interpreter, on the thread that iterates the loop.
        self.assertEqual(host.ran_on, host.main_ident)

        self.assertEqual(error["reply"]["status"], "error")
        self.assertEqual(error["reply"]["ename"], "ZeroDivisionError")

        # Each execute made the kernel busy, then idle again, through the signal
        # (kernel_info is answered by the I/O thread and leaves the state alone).
        self.assertEqual(states, ["starting", "idle"] + ["busy", "idle"] * 2, states)
        self.assertEqual(
            executions,
            [("started", 1), ("finished", 1, "ok"), ("started", 2), ("finished", 2, "error")],
        )
        self.assertEqual(kernel.get_execution_count(), 2)

        kernel.stop()
        self.assertEqual(states[-2:], ["stopping", "stopped"])
        self.assertFalse(os.path.exists(connection_file), "the connection file was left behind")

    def test_host_prints_stay_with_the_host(self):
        captured = io.StringIO()
        saved = sys.stdout
        sys.stdout = captured
        try:
            kernel, connection_file = self.new_kernel()
            kernel.start()
            (cell,) = self.client(
                connection_file, [{"op": "execute", "code": "print('in a cell')"}]
            )
            print("from the host")
            kernel.stop()
        finally:
            sys.stdout = saved
        self.assertEqual(gitest.stream_text(cell["iopub"]), "in a cell\n")
        self.assertEqual(captured.getvalue(), "from the host\n")

    def test_interrupt(self):
        kernel, connection_file = self.new_kernel()
        kernel.start()
        interrupted, after = self.client(
            connection_file,
            [
                {"op": "execute_and_interrupt", "code": "while True:\n    pass", "delay": 0.5},
                {"op": "execute", "code": "'still alive'"},
            ],
        )
        self.assertEqual(interrupted["interrupt_reply"]["status"], "ok")
        self.assertEqual(interrupted["reply"]["status"], "error", interrupted)
        self.assertEqual(interrupted["reply"]["ename"], "KeyboardInterrupt")
        self.assertEqual(after["reply"]["status"], "ok")
        kernel.stop()

    def test_start_async_and_stop_async(self):
        kernel, connection_file = self.new_kernel()
        started = []
        kernel.start_async(None, lambda k, result: started.append(result))
        # Nothing happens before the loop runs: the work is done on the owner context.
        self.assertEqual(kernel.get_state(), BpyJupyter.KernelState.STOPPED)
        self.assertTrue(self.finish(kernel.start_finish, started, "start_async"))
        self.assertEqual(kernel.get_state(), BpyJupyter.KernelState.IDLE)

        (ok,) = self.client(connection_file, [{"op": "execute", "code": "2 ** 10"}])
        self.assertEqual(
            gitest.of_type(ok["iopub"], "execute_result")[0]["data"]["text/plain"], "1024"
        )

        stopped = []
        kernel.stop_async(None, lambda k, result: stopped.append(result))
        self.assertEqual(kernel.get_state(), BpyJupyter.KernelState.IDLE)
        self.assertTrue(self.finish(kernel.stop_finish, stopped, "stop_async"))
        self.assertEqual(kernel.get_state(), BpyJupyter.KernelState.STOPPED)
        self.assertFalse(os.path.exists(connection_file))

        # Not running: stop_async fails with BJ_ERROR_NOT_RUNNING.
        again = []
        kernel.stop_async(None, lambda k, result: again.append(result))
        with self.assertRaises(GLib.Error) as raised:
            self.finish(kernel.stop_finish, again, "stop_async on a stopped kernel")
        self.assertTrue(
            raised.exception.matches(BpyJupyter.error_quark(), BpyJupyter.Error.NOT_RUNNING),
            raised.exception,
        )

    def test_cancellation_before_the_work_starts(self):
        kernel, connection_file = self.new_kernel()

        # Cancelled after the call, before the loop ran: the kernel never starts.
        cancellable = Gio.Cancellable()
        started = []
        kernel.start_async(cancellable, lambda k, result: started.append(result))
        cancellable.cancel()
        with self.assertRaises(GLib.Error) as raised:
            self.finish(kernel.start_finish, started, "a cancelled start_async")
        self.assertTrue(raised.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        self.assertEqual(kernel.get_state(), BpyJupyter.KernelState.STOPPED)
        self.assertFalse(os.path.exists(connection_file))

        # Cancelled before the call.
        started = []
        kernel.start_async(cancellable, lambda k, result: started.append(result))
        with self.assertRaises(GLib.Error):
            self.finish(kernel.start_finish, started, "a cancelled start_async")
        self.assertEqual(kernel.get_state(), BpyJupyter.KernelState.STOPPED)

        # A cancelled stop leaves the kernel running.
        kernel.start()
        stop_cancellable = Gio.Cancellable()
        stopped = []
        kernel.stop_async(stop_cancellable, lambda k, result: stopped.append(result))
        stop_cancellable.cancel()
        with self.assertRaises(GLib.Error) as raised:
            self.finish(kernel.stop_finish, stopped, "a cancelled stop_async")
        self.assertTrue(raised.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        self.assertEqual(kernel.get_state(), BpyJupyter.KernelState.IDLE)
        (ok,) = self.client(connection_file, [{"op": "execute", "code": "'running'"}])
        self.assertEqual(ok["reply"]["status"], "ok")

        # Cancelling once started changes nothing.
        kernel.stop()
        late = Gio.Cancellable()
        started = []
        kernel.start_async(late, lambda k, result: started.append(result))
        self.assertTrue(self.finish(kernel.start_finish, started, "start_async"))
        late.cancel()
        self.assertEqual(kernel.get_state(), BpyJupyter.KernelState.IDLE)
        kernel.stop()

    def test_stop_from_inside_a_cell(self):
        kernel, connection_file = self.new_kernel()
        stopped = []
        host.kernel = kernel
        host.on_stopped = lambda k, result: stopped.append(result)
        kernel.start()

        sync, asynchronous = self.client(
            connection_file,
            [
                # The synchronous stop refuses: the cell is still running.
                {
                    "op": "execute",
                    "code": (
                        "import bj_gir_host\n"
                        "try:\n"
                        "    bj_gir_host.kernel.stop()\n"
                        "except Exception as e:\n"
                        "    print(type(e).__name__, e.message)"
                    ),
                },
                # The asynchronous one stops the kernel once this cell's reply went out.
                {
                    "op": "execute",
                    "code": (
                        "import bj_gir_host\n"
                        "bj_gir_host.kernel.stop_async(None, bj_gir_host.on_stopped)\n"
                        "'stopping after this cell'"
                    ),
                },
            ],
        )
        self.assertIn(
            "cannot stop itself from inside a running cell", gitest.stream_text(sync["iopub"])
        )
        self.assertEqual(asynchronous["reply"]["status"], "ok")
        results = gitest.of_type(asynchronous["iopub"], "execute_result")
        self.assertEqual(results[0]["data"]["text/plain"], "'stopping after this cell'")
        self.assertTrue(self.finish(kernel.stop_finish, stopped, "stop_async from a cell"))
        self.assertEqual(kernel.get_state(), BpyJupyter.KernelState.STOPPED)
        self.assertFalse(os.path.exists(connection_file))

    def test_executor_written_in_python(self):
        kernel = BpyJupyter.Kernel.new(EchoExecutor())
        connection_file = os.path.join(self.tmp, "echo.json")
        kernel.set_connection_file(connection_file)
        self.addCleanup(self.stop_if_running, kernel)
        kernel.start()
        info, echoed, comms = self.client(
            connection_file,
            [
                {"op": "kernel_info"},
                {"op": "execute", "code": "hello"},
                {"op": "shell", "msg_type": "comm_info_request"},
            ],
        )
        self.assertEqual(info["language_info"]["name"], "echo")
        self.assertEqual(echoed["reply"]["status"], "ok")
        self.assertEqual(gitest.stream_text(echoed["iopub"]), "HELLO\n")
        self.assertEqual(comms, {"status": "ok", "comms": {}})
        kernel.stop()

    def test_shutdown_request_reaches_the_host(self):
        kernel, connection_file = self.new_kernel()
        requests = []

        def on_shutdown_requested(kernel, restart):
            requests.append(restart)
            if not restart:
                kernel.stop()

        kernel.connect("shutdown-requested", on_shutdown_requested)
        kernel.start()
        (reply,) = self.client(connection_file, [{"op": "shutdown", "restart": False}])
        self.assertEqual(reply["status"], "ok")
        self.assertFalse(reply["restart"])
        self.iterate_until(lambda: requests, what="shutdown-requested")
        self.assertEqual(requests, [False])
        self.assertEqual(kernel.get_state(), BpyJupyter.KernelState.STOPPED)


if __name__ == "__main__":
    unittest.main(verbosity=2)
