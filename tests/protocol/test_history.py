#!/usr/bin/python3
"""history_request across kernel restarts, with a private XDG_DATA_HOME per test.

The history lives in $XDG_DATA_HOME/bpy-jupyter/history/<kernel>.jsonl; each
kernel process is a new session; range requests take session 0 (current),
negative (relative) or positive (absolute) numbers; a big file is compacted to
the last 10000 entries; a damaged or unwritable file never breaks the kernel
(one warning on the kernel's stderr).
"""

import glob
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from jupyter_client import BlockingKernelClient

import bjtest
from bjtest import get_reply


def history_request(kc, **content):
    content.setdefault("raw", True)
    content.setdefault("output", False)
    content.setdefault("hist_access_type", "tail")
    msg = kc.session.msg("history_request", content)
    kc.shell_channel.send(msg)
    reply = get_reply(kc.shell_channel, msg["header"]["msg_id"])
    bjtest.collect_iopub(kc, msg["header"]["msg_id"])
    assert reply["content"]["status"] == "ok", reply["content"]
    return [
        tuple(row[:2]) + (tuple(row[2]) if isinstance(row[2], list) else row[2],)
        for row in reply["content"]["history"]
    ]


class HistoryTestCase(unittest.TestCase):
    """Kernels started by hand, all sharing one temporary XDG_DATA_HOME per test."""

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="bj-history-")
        self.kernels = []

    def tearDown(self):
        problems = [k.shutdown() for k in self.kernels if k.returncode is None]
        shutil.rmtree(self.data, ignore_errors=True)
        problems = [p for p in problems if p]
        if problems:
            raise AssertionError("teardown: %s" % problems)

    @property
    def history_dir(self):
        return os.path.join(self.data, "bpy-jupyter", "history")

    def history_file(self):
        files = glob.glob(os.path.join(self.history_dir, "*.jsonl"))
        self.assertEqual(len(files), 1, files)
        return files[0]

    def start(self, capture_stderr=False):
        kernel = bjtest.Kernel(capture_stderr=capture_stderr, env={"XDG_DATA_HOME": self.data})
        self.kernels.append(kernel)
        return kernel

    def seed_paths(self):
        """(history file, state file) the kernel will use, emptied for a test to fill.

        Found by running a kernel once, because the name is the kernel's
        (python, or the kernel name the host gives the runtime).
        """
        k = self.start()
        self.run_cells(k, "'probe'")
        self.stop(k)
        path = self.history_file()
        state = path[: -len(".jsonl")] + ".state"
        os.unlink(path)
        os.unlink(state)
        return path, state

    def stop(self, kernel):
        problem = kernel.shutdown()
        self.assertIsNone(problem)

    def run_cells(self, kernel, *cells, **kw):
        for code in cells:
            reply, _ = bjtest.execute(kernel.kc, code, **kw)
            self.assertEqual(reply["content"]["status"], "ok", reply["content"])


class TestHistory(HistoryTestCase):
    def test_sessions_across_restarts(self):
        k1 = self.start()
        self.run_cells(k1, "a = 1", "a + 1", "print('x')")
        self.run_cells(k1, "'not stored'", store_history=False)
        self.run_cells(k1, "'silent'", silent=True)
        self.run_cells(k1, "a = 1")
        tail = history_request(k1.kc, n=10)
        self.assertEqual(
            tail, [(1, 1, "a = 1"), (1, 2, "a + 1"), (1, 3, "print('x')"), (1, 4, "a = 1")]
        )
        self.assertEqual(history_request(k1.kc, n=2), tail[-2:])
        self.assertEqual(
            history_request(k1.kc, hist_access_type="range", session=0, start=2, stop=4),
            [(1, 2, "a + 1"), (1, 3, "print('x')")],
        )
        self.assertEqual(
            history_request(k1.kc, hist_access_type="range", session=0, start=3, output=True),
            [(1, 3, ("print('x')", None)), (1, 4, ("a = 1", None))],
        )
        self.assertEqual(
            history_request(k1.kc, hist_access_type="search", pattern="a*"),
            [(1, 1, "a = 1"), (1, 2, "a + 1"), (1, 4, "a = 1")],
        )
        self.assertEqual(
            history_request(k1.kc, hist_access_type="search", pattern="a*", unique=True),
            [(1, 2, "a + 1"), (1, 4, "a = 1")],
        )
        self.assertEqual(
            history_request(k1.kc, hist_access_type="search", pattern="a*", n=1), [(1, 4, "a = 1")]
        )
        self.stop(k1)

        k2 = self.start()
        self.run_cells(k2, "b = 2", "b * 21")
        self.assertEqual(
            history_request(k2.kc, n=3), [(1, 4, "a = 1"), (2, 1, "b = 2"), (2, 2, "b * 21")]
        )
        previous = [(1, 1, "a = 1"), (1, 2, "a + 1"), (1, 3, "print('x')"), (1, 4, "a = 1")]
        self.assertEqual(history_request(k2.kc, hist_access_type="range", session=-1), previous)
        self.assertEqual(history_request(k2.kc, hist_access_type="range", session=1), previous)
        self.assertEqual(
            history_request(k2.kc, hist_access_type="range", session=0, output=True),
            [(2, 1, ("b = 2", None)), (2, 2, ("b * 21", "42"))],
        )
        self.assertEqual(
            history_request(
                k2.kc, hist_access_type="range", session=-1, start=2, stop=3, output=True
            ),
            [(1, 2, ("a + 1", "2"))],
        )
        self.assertEqual(
            history_request(k2.kc, hist_access_type="search", pattern="*1*", unique=True),
            [(1, 2, "a + 1"), (1, 4, "a = 1"), (2, 2, "b * 21")],
        )
        self.stop(k2)
        with open(self.history_file()) as f:
            records = [json.loads(line) for line in f]
        self.assertEqual(sum(1 for r in records if "input" in r), 6)

    def test_concurrent_kernels_get_distinct_sessions(self):
        k1, k2 = self.start(), self.start()
        self.run_cells(k1, "'one'")
        self.run_cells(k2, "'two'")
        self.run_cells(k1, "'one again'")
        sessions1 = {row[0] for row in history_request(k1.kc, hist_access_type="range", session=0)}
        sessions2 = {row[0] for row in history_request(k2.kc, hist_access_type="range", session=0)}
        self.assertEqual(len(sessions1), 1)
        self.assertEqual(len(sessions2), 1)
        self.assertNotEqual(sessions1, sessions2)
        # each sees the other's entries in its tail, its own from memory
        self.assertEqual([row[2] for row in history_request(k1.kc)].count("'two'"), 1)

    def test_restart_in_process(self):
        # A host keeping its Python (and the runtime) across a kernel restart, as
        # Blender does: whether the execution count starts again (then so does a
        # session) or carries on, no entry may be lost or overwritten.
        host = os.environ.get("BJ_RESTART_HOST")
        self.assertTrue(
            host and os.access(host, os.X_OK), "BJ_RESTART_HOST must name the built host"
        )
        connection_file = os.path.join(self.data, "kernel.json")
        log = open(os.path.join(self.data, "host.log"), "w")
        process = subprocess.Popen(
            [host, connection_file], stderr=log, env=dict(os.environ, XDG_DATA_HOME=self.data)
        )
        try:
            deadline = time.monotonic() + bjtest.STARTUP_TIMEOUT
            while not os.path.exists(connection_file) and time.monotonic() < deadline:
                time.sleep(0.02)
            kc = BlockingKernelClient(connection_file=connection_file)
            kc.load_connection_file()
            kc.start_channels()
            kc.wait_for_ready(timeout=bjtest.STARTUP_TIMEOUT)
            bjtest.execute(kc, "x = 41")
            kc.control_channel.send(kc.session.msg("shutdown_request", {"restart": True}))
            bjtest.get_msg(kc.control_channel, timeout=bjtest.TIMEOUT)  # shutdown_reply
            kc.wait_for_ready(timeout=bjtest.STARTUP_TIMEOUT)
            reply, _ = bjtest.execute(kc, "x + 1")
            count = reply["content"]["execution_count"]
            rows = history_request(kc, n=5, output=True)
            if count == 1:  # the kernel counts from 1 again: a new session
                self.assertEqual(rows, [(1, 1, ("x = 41", None)), (2, 1, ("x + 1", "42"))])
            else:  # it carries on counting: the same session goes on
                self.assertEqual(rows, [(1, 1, ("x = 41", None)), (1, count, ("x + 1", "42"))])
            kc.shutdown()
            self.assertEqual(process.wait(timeout=bjtest.SHUTDOWN_TIMEOUT), 0)
            kc.stop_channels()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()

    def test_count_going_back_starts_a_session(self):
        # What the runtime sees when a host restarts a kernel object around it and
        # the count starts from 1 again (white-box: the restart is simulated).
        k = self.start()
        cell = (
            "import sys\n"
            "sys.modules['_bpy_jupyter_runtime']._history.record_input(1, 'again').copy()"
        )
        self.run_cells(k, "'first'", cell)
        self.assertEqual(history_request(k.kc), [(1, 1, "'first'"), (1, 2, cell), (2, 1, "again")])

    def test_bounded(self):
        path, _ = self.seed_paths()
        with open(path, "w") as f:
            for session in (1, 2, 3):
                f.write(json.dumps({"session": session, "started": "2026-01-01T00:00:00Z"}) + "\n")
                for line in range(1, 10001):
                    f.write(
                        json.dumps(
                            {
                                "session": session,
                                "line": line,
                                "input": "x = %d  # padding padding" % line,
                            }
                        )
                        + "\n"
                    )
        k = self.start()
        self.run_cells(k, "'new'")
        tail = history_request(k.kc)
        self.assertEqual(len(tail), 10000)
        self.assertEqual(tail[0], (3, 2, "x = 2  # padding padding"))
        self.assertEqual(tail[-1], (4, 1, "'new'"))
        self.assertEqual(history_request(k.kc, hist_access_type="range", session=1), [])
        with open(self.history_file()) as f:
            inputs = sum(1 for line in f if '"input"' in line)
        self.assertLessEqual(inputs, 10001, "the file was not compacted")

    def test_damaged_files(self):
        path, state = self.seed_paths()
        with open(path, "wb") as f:
            f.write(b'{"session": 5, "line": 1, "input": "good = 1"}\n')
            f.write(b"\xff\xfe not json at all\n")
            f.write(b'[1, 2, 3]\n{"session": "x", "line": 2, "input": "bad"}\n')
            f.write(b'{"session": 5, "line": 3, "input": 42}\n')
            f.write(b'{"session": 5, "line": 1, "output": "1"}\n')
            f.write(b'{"session": 5, "line": 4, "input": "good = 4"}\n')
            f.write(b'{"session": 5, "line": 5, "inp')  # cut off mid-write
        with open(state, "wb") as f:
            f.write(b"\x00garbage")
        k = self.start(capture_stderr=True)
        self.run_cells(k, "'after damage'")
        self.assertEqual(
            history_request(k.kc, output=True),
            [
                (5, 1, ("good = 1", "1")),
                (5, 4, ("good = 4", None)),
                (6, 1, ("'after damage'", "'after damage'")),
            ],
        )
        self.assertNotIn("history", k.stderr_text())

    def test_unwritable(self):
        os.makedirs(os.path.join(self.data, "bpy-jupyter"))
        with open(self.history_dir, "w") as f:  # a file where the directory should be
            f.write("in the way")
        k = self.start(capture_stderr=True)
        self.run_cells(k, "1", "2", "print(3)")
        self.assertEqual(history_request(k.kc), [(1, 1, "1"), (1, 2, "2"), (1, 3, "print(3)")])
        self.run_cells(k, "4")
        stderr = k.stderr_text()
        self.assertEqual(stderr.count("history is not saved"), 1, stderr)
        self.stop(k)


if __name__ == "__main__":
    bjtest.main()
