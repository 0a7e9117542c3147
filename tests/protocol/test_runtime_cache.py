"""The bytecode cache of the embedded Python runtime (bj_runtime.py).

The executor keeps the compiled runtime in $XDG_CACHE_HOME/bpy-jupyter/ so a
start need not compile it again. A cache file is used only if its whole header
matches and its payload is intact; anything else is ignored and written again,
and a cache that cannot be written changes nothing but the start time.
"""
import glob
import marshal
import os
import stat
import tempfile
import unittest

import bjtest

HEADER = 4 + 4 + 4 + 4 + 32 + 32  # tag, format, magic, optimize, source and payload SHA-256


class RuntimeCache(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="bj-cache-test-")
        self.cache_home = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def cache_files(self):
        return glob.glob(os.path.join(self.cache_home, "bpy-jupyter", "*"))

    def run_kernel(self, cache_home=None):
        """Starts a kernel with XDG_CACHE_HOME set, checks it runs cells (output,
        a result, a traceback that names the cell) and shuts down cleanly."""
        k = bjtest.Kernel(
            capture_stderr=True, env={"XDG_CACHE_HOME": cache_home or self.cache_home}
        )
        try:
            reply, msgs = bjtest.execute(k.kc, "print('cached', 6 * 7)\n6 * 7")
            self.assertEqual(reply["content"]["status"], "ok")
            self.assertEqual(bjtest.stream_text(msgs), "cached 42\n")
            results = bjtest.of_type(msgs, "execute_result")
            self.assertEqual(results[0]["content"]["data"]["text/plain"], "42")
            reply, msgs = bjtest.execute(k.kc, "1 / 0")
            self.assertEqual(reply["content"]["status"], "error")
            self.assertEqual(reply["content"]["ename"], "ZeroDivisionError")
            # the cache is silent: nothing about it on the kernel's stderr
            self.assertNotIn("cach", k.stderr_text().lower())
        finally:
            problem = k.shutdown()
        self.assertIsNone(problem)

    def only_cache_file(self):
        files = self.cache_files()
        self.assertEqual(len(files), 1, files)
        return files[0]

    def test_written_once_private_and_reused(self):
        self.run_kernel()
        path = self.only_cache_file()
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(data[:4], b"BJRC")
        codes = marshal.loads(data[HEADER:])
        # The runtime's modules in the order they run; the session, last, is the
        # package (and keeps the historical file name).
        self.assertIsInstance(codes, tuple)
        self.assertEqual(codes[-1].co_filename, "bj_runtime.py")
        self.assertTrue(all(type(code).__name__ == "code" for code in codes))
        # A second start reads it and leaves it as it is.
        self.run_kernel()
        self.assertEqual(self.only_cache_file(), path)
        st2 = os.stat(path)
        self.assertEqual((st2.st_ino, st2.st_mtime_ns), (st.st_ino, st.st_mtime_ns))

    def good_cache(self):
        self.run_kernel()
        path = self.only_cache_file()
        with open(path, "rb") as f:
            return path, f.read()

    def check_rewritten(self, path, good, damaged, mode=0o600):
        with open(path, "wb") as f:
            f.write(damaged)
        os.chmod(path, mode)
        self.run_kernel()
        self.assertEqual(self.only_cache_file(), path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), good, "the damaged cache file was not written again")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)

    def test_corrupt_payload_is_ignored_and_rewritten(self):
        path, good = self.good_cache()
        middle = HEADER + (len(good) - HEADER) // 2
        damaged = (
            good[:middle]
            + bytes(b ^ 0x5A for b in good[middle : middle + 64])
            + good[middle + 64 :]
        )
        self.check_rewritten(path, good, damaged)

    def test_truncated_or_garbage_file_is_ignored_and_rewritten(self):
        path, good = self.good_cache()
        self.check_rewritten(path, good, good[: len(good) // 3])
        self.check_rewritten(path, good, good[: HEADER - 1])
        self.check_rewritten(path, good, b"")
        self.check_rewritten(path, good, os.urandom(len(good)))

    def test_foreign_header_is_never_trusted(self):
        path, good = self.good_cache()
        for offset in (0, 4, 8, 12, 16):  # tag, format, Python magic, optimize, source hash
            damaged = bytearray(good)
            damaged[offset] ^= 0xFF
            self.check_rewritten(path, good, bytes(damaged))

    def test_payload_that_does_not_match_its_digest_never_runs(self):
        path, good = self.good_cache()
        marker = os.path.join(self.cache_home, "ran")
        code = compile("open(%r, 'w').close()\n" % marker, "bj_runtime.py", "exec")
        evil = marshal.dumps((code,) * len(marshal.loads(good[HEADER:])))
        self.check_rewritten(path, good, good[:HEADER] + evil)
        self.assertFalse(os.path.exists(marker), "a cache payload with a wrong digest was run")

    def test_group_writable_file_is_not_trusted(self):
        path, good = self.good_cache()
        self.check_rewritten(path, good, good, mode=0o666)

    def test_unwritable_cache_still_works(self):
        # XDG_CACHE_HOME is a regular file: bpy-jupyter/ cannot be created in it
        # (unlike permissions, this also holds when the tests run as root).
        not_a_dir = os.path.join(self.cache_home, "file")
        with open(not_a_dir, "w") as f:
            f.write("not a directory")
        self.run_kernel(cache_home=not_a_dir)
        self.run_kernel(cache_home=not_a_dir)
        with open(not_a_dir) as f:
            self.assertEqual(f.read(), "not a directory")


if __name__ == "__main__":
    bjtest.main()
