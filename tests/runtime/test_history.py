"""bj_runtime.history: the store on disk and the rows of history requests."""
import json
import os
import tempfile
import unittest

import runtimetest  # noqa: F401
from bj_runtime.history import _history_rows, _HistoryStore


class History(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="bj-runtime-history-")
        self.old = os.environ.get("XDG_DATA_HOME")
        os.environ["XDG_DATA_HOME"] = self.tmp.name

    def tearDown(self):
        if self.old is None:
            os.environ.pop("XDG_DATA_HOME", None)
        else:
            os.environ["XDG_DATA_HOME"] = self.old
        self.tmp.cleanup()

    def store(self):
        return _HistoryStore(kernel_name=lambda: "my/kernel")

    def test_sessions_persist_across_stores(self):
        first = self.store()
        entry = first.record_input(1, "a = 1")
        first.record_output(entry, "1")
        first.record_input(2, "b = 2")
        first.close()
        second = self.store()
        second.record_input(1, "c = 3")
        self.assertEqual(second.session, first.session + 1)
        rows = _history_rows(second, {"hist_access_type": "tail", "n": 10})
        self.assertEqual(
            [tuple(r[:3]) for r in rows], [(1, 1, "a = 1"), (1, 2, "b = 2"), (2, 1, "c = 3")]
        )
        self.assertEqual(rows[0][3], "1")
        second.close()
        # the kernel's name is sanitised into one file name
        path = os.path.join(self.tmp.name, "bpy-jupyter", "history", "my_kernel.jsonl")
        with open(path) as f:
            records = [json.loads(line) for line in f]
        self.assertIn({"session": 2, "line": 1, "input": "c = 3"}, records)

    def test_range_and_search(self):
        store = self.store()
        for line, code in enumerate(["x = 1", "print(x)", "x = 1", "y = 2"], 1):
            store.record_input(line, code)
        rows = _history_rows(
            store, {"hist_access_type": "range", "session": 0, "start": 2, "stop": 4}
        )
        self.assertEqual([r[2] for r in rows], ["print(x)", "x = 1"])
        rows = _history_rows(
            store, {"hist_access_type": "search", "pattern": "x = *", "unique": True}
        )
        self.assertEqual([(r[1], r[2]) for r in rows], [(3, "x = 1")])
        self.assertEqual(_history_rows(store, {"hist_access_type": "tail", "n": 0}), [])
        store.close()

    def test_count_going_back_is_a_new_session(self):
        store = self.store()
        store.record_input(1, "one")
        store.record_input(2, "two")
        store.record_input(1, "again")
        self.assertEqual([e[0] for e in store.entries()], [1, 1, 2])
        store.close()

    def test_unwritable_directory_keeps_memory_history(self):
        not_a_dir = os.path.join(self.tmp.name, "file")
        with open(not_a_dir, "w") as f:
            f.write("x")
        os.environ["XDG_DATA_HOME"] = not_a_dir
        warnings = []

        class Stream:
            def write(self, text):
                warnings.append(text)

            def flush(self):
                pass

        store = _HistoryStore(kernel_name=lambda: None, host_stderr=Stream)
        store.record_input(1, "kept")
        store.record_input(2, "too")
        self.assertEqual([e[2] for e in store.entries()], ["kept", "too"])
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("python.jsonl", warnings[0])
        store.close()


if __name__ == "__main__":
    unittest.main()
