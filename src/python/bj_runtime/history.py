"""Input history that outlives the kernel process (the store), and the rows
a history_request asks for.

Knows nothing of the kernel: the session passes the kernel's name and the
host's stderr as callables, so the store is tested in-process.
"""

import contextlib
import json
import os
import re
import sys
import time
from collections import deque

from .boundary import LazyModule, _safe_str

fnmatch = LazyModule("fnmatch")


_HISTORY_LIMIT = 10000  # entries kept for requests, and in the file after compaction
_HISTORY_COMPACT_BYTES = 1 << 20  # below this size the file is never rewritten
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_json_string = json.encoder.encode_basestring_ascii  # str -> quoted ASCII JSON, in C
try:
    import fcntl as _fcntl
except ImportError:  # Windows
    _fcntl = None


def _optional_int(value):
    return None if value is None else int(value)


class _HistoryStore:
    """Input history that outlives the kernel process, per kernel name.

    One JSON object per line in $XDG_DATA_HOME/bpy-jupyter/history/<kernel>.jsonl:
    {"session", "started"} when a session starts, {"session", "line",
    "input"} before a cell runs (so a cell that kills the kernel is still
    remembered) and {"session", "line", "output"} when it had a result
    (written with the next record).  That is one append, a few system calls,
    per cell; the file is rewritten (to the last _HISTORY_LIMIT entries) only
    when a session starts and the file has doubled since it was last
    compacted.

    Beside it, <kernel>.state holds {"last_session", "compacted_size"} and is
    the lock: kernels of the same name running at once get distinct session
    numbers, and none appends while another compacts.

    Nothing here may fail a cell: an unreadable or unwritable file costs one
    warning on the host's stderr, and the history of the running session is
    then kept in memory only.  Lines that do not parse are skipped.
    """

    def __init__(self, kernel_name=None, host_stderr=None):
        """kernel_name() names the file (None: "python"); host_stderr() is where
        a warning goes (None: sys.__stderr__). Both are asked when needed."""
        self._kernel_name = kernel_name or (lambda: None)
        self._host_stderr = host_stderr or (lambda: None)
        self.session = None
        # [session, line, input, output-or-None] recorded by this process, which
        # may span sessions (a host restarting its kernel keeps the runtime)
        self.current = deque(maxlen=_HISTORY_LIMIT)
        self.path = None
        self.state_path = None
        self.state_fd = None
        self.history_fd = None
        self.pending = []  # records written with the next one (see _write)
        self.writable = True
        self.warned = False
        # entries read from the file so far, and where the reading stopped,
        # so a request reads only what was appended since
        self.read_entries = {}
        self.read_key = None
        self.read_offset = 0

    # -- files ---------------------------------------------------------------

    def _locate(self):
        if self.path is not None:
            return
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(
            os.path.expanduser("~"), ".local", "share"
        )
        name = self._kernel_name() or "python"
        name = re.sub(r"[^\w.-]", "_", str(name)).lstrip(".") or "python"
        directory = os.path.join(base, "bpy-jupyter", "history")
        self.path = os.path.join(directory, name + ".jsonl")
        self.state_path = os.path.join(directory, name + ".state")

    def _warn(self, exc):
        """Once per process, on the host's stderr: the notebook is not the place."""
        self.writable = False
        if self.warned:
            return
        self.warned = True
        stream = self._host_stderr() or sys.__stderr__
        with contextlib.suppress(Exception):
            stream.write(
                "bpy-jupyter: the input history is not saved to %s (kept in memory "
                "for this session only): %s\n" % (self.path, exc)
            )
            stream.flush()

    @contextlib.contextmanager
    def _lock(self, exclusive):
        """The state file's lock; for the rare paths (session start, compaction)."""
        if _fcntl is None:  # Windows: no locking, best effort
            yield
            return
        _fcntl.flock(self.state_fd, _fcntl.LOCK_EX if exclusive else _fcntl.LOCK_SH)
        try:
            yield
        finally:
            _fcntl.flock(self.state_fd, _fcntl.LOCK_UN)

    def _open_history(self):
        if self.history_fd is not None:
            os.close(self.history_fd)
            self.history_fd = None
        self.history_fd = os.open(
            self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _O_CLOEXEC, 0o600
        )

    def _append(self, data):
        """Append bytes to the history file through the descriptor kept open.

        Another kernel's compaction replaces the file: the old one then has no
        links left, and is reopened.  Called with the state lock held (shared
        or exclusive), so no compaction runs in between.
        """
        if self.history_fd is None or os.fstat(self.history_fd).st_nlink == 0:
            self._open_history()
        view = memoryview(data)
        while view:
            view = view[os.write(self.history_fd, view) :]

    def _write(self, record=None):
        """Write the pending records and this one, in one go.

        Once per cell: a result's output record waits for the next cell's
        input record (or a history request, or shutdown), which halves what
        history costs a cell.  Losing the last output when the process dies
        is an acceptable price; losing an input would not be, so an input is
        never kept waiting.
        """
        if not self.writable:
            return
        records, self.pending = self.pending, []
        if record is not None:
            records.append(record)
        if not records:
            return
        try:
            data = "".join(records).encode("ascii")
            if _fcntl is None:
                self._append(data)
                return
            _fcntl.flock(self.state_fd, _fcntl.LOCK_SH)
            try:
                self._append(data)
            finally:
                _fcntl.flock(self.state_fd, _fcntl.LOCK_UN)
        except Exception as exc:
            self._warn(exc)

    def _read_state(self):
        os.lseek(self.state_fd, 0, os.SEEK_SET)
        chunks = []
        while True:
            chunk = os.read(self.state_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        try:
            state = json.loads(b"".join(chunks).decode("utf-8"))
            return int(state["last_session"]), int(state.get("compacted_size") or 0)
        except Exception:
            return None, 0  # new, or damaged: rebuilt from the history itself

    def _write_state(self, last_session, compacted_size):
        data = json.dumps({"last_session": last_session, "compacted_size": compacted_size}).encode()
        os.lseek(self.state_fd, 0, os.SEEK_SET)
        os.ftruncate(self.state_fd, 0)
        os.write(self.state_fd, data)

    @staticmethod
    def _parse(lines, entries, sessions=None):
        """Fold history lines into entries {(session, line): [s, l, input, output]}."""
        for raw in lines:
            try:
                record = json.loads(raw)
                session = int(record["session"])
            except Exception:
                continue
            if sessions is not None:
                sessions.add(session)
            if "line" not in record:
                continue
            try:
                key = (session, int(record["line"]))
            except Exception:
                continue
            if isinstance(record.get("input"), str):
                entries[key] = [key[0], key[1], record["input"], None]
            elif key in entries and "output" in record:
                output = record["output"]
                entries[key][3] = output if isinstance(output, str) else None

    def _read_lines(self, offset=0):
        """Complete lines from offset on, and the offset after them."""
        with open(self.path, "rb") as f:
            f.seek(offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        return data[:end].decode("utf-8", "replace").splitlines(), offset + end

    def _compact(self):
        """Rewrite the file with its last _HISTORY_LIMIT entries; returns the new size."""
        lines, _ = self._read_lines()
        entries, sessions = {}, set()
        self._parse(lines, entries, sessions=sessions)
        kept = sorted(entries.values())[-_HISTORY_LIMIT:]
        records = [{"session": max(sessions)}] if sessions else []
        for session, line, source, output in kept:
            records.append({"session": session, "line": line, "input": source})
            if output is not None:
                records.append({"session": session, "line": line, "output": output})
        temporary = "%s.%d.tmp" % (self.path, os.getpid())
        try:
            with open(temporary, "w", encoding="ascii") as f:
                f.write("".join(json.dumps(record) + "\n" for record in records))
            os.replace(temporary, self.path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        return os.path.getsize(self.path)

    def _max_session_in_file(self):
        sessions = set()
        with contextlib.suppress(Exception):
            self._parse(self._read_lines()[0], {}, sessions=sessions)
        return max(sessions, default=0)

    def start_session(self):
        """The current session number, allocated on first use.

        Lazily, so a kernel start costs no file access at all.
        """
        if self.session is not None:
            return self.session
        self._locate()
        try:
            if self.state_fd is None:
                os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
                self.state_fd = os.open(self.state_path, os.O_RDWR | os.O_CREAT | _O_CLOEXEC, 0o600)
            with self._lock(exclusive=True):
                last, compacted = self._read_state()
                if last is None:
                    last = self._max_session_in_file()
                self.session = last + 1
                try:
                    size = os.path.getsize(self.path)
                except FileNotFoundError:
                    size = 0
                if size > max(_HISTORY_COMPACT_BYTES, 2 * compacted):
                    compacted = self._compact()
                self._write_state(self.session, compacted)
                self._append(
                    (
                        json.dumps(
                            {
                                "session": self.session,
                                "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                            }
                        )
                        + "\n"
                    ).encode("ascii")
                )
        except Exception as exc:
            if self.session is None:
                last = max((entry[0] for entry in self.current), default=0)
                self.session = max(self._max_session_in_file(), last) + 1
            self._warn(exc)
        return self.session

    def close(self):
        self.flush()
        for name in ("history_fd", "state_fd"):
            fd = getattr(self, name)
            setattr(self, name, None)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.writable = False

    # -- recording -----------------------------------------------------------

    @staticmethod
    def _line(session, line, key, text):
        """One record as JSON text, formatted by hand: json.dumps would double the cost."""
        text = text if isinstance(text, str) else _safe_str(text)
        return '{"session": %d, "line": %d, "%s": %s}\n' % (session, line, key, _json_string(text))

    def record_input(self, line, source):
        if self.session is not None and self.current and line <= self.current[-1][1]:
            # The count went back: the kernel was restarted around this runtime
            # (same process, same executor), which is a new session too.
            self.session = None
        session = self.start_session()
        entry = [session, line, source, None]
        self.current.append(entry)
        self._write(self._line(session, line, "input", source))
        return entry

    def record_output(self, entry, text):
        entry[3] = text
        if self.writable:
            self.pending.append(self._line(entry[0], entry[1], "output", text))

    def flush(self):
        if self.pending:
            self._write()

    # -- reading -------------------------------------------------------------

    def _from_file(self):
        """Entries in the file, read incrementally."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return []
        key = (stat.st_dev, stat.st_ino)
        if key != self.read_key or stat.st_size < self.read_offset:
            self.read_key, self.read_offset, self.read_entries = key, 0, {}  # new or compacted file
        if stat.st_size > self.read_offset:
            lines, self.read_offset = self._read_lines(self.read_offset)
            self._parse(lines, self.read_entries)
            if len(self.read_entries) > 2 * _HISTORY_LIMIT:
                kept = sorted(self.read_entries.items())[-_HISTORY_LIMIT:]
                self.read_entries = dict(kept)
        return list(self.read_entries.values())

    def entries(self):
        """Every known entry, oldest first, at most _HISTORY_LIMIT of them.

        This process's own entries come from memory, so they are complete even
        when the file could not be written.
        """
        self.start_session()
        self.flush()
        try:
            merged = {(entry[0], entry[1]): entry for entry in self._from_file()}
        except Exception:
            merged = {}
        for entry in self.current:
            merged[entry[0], entry[1]] = entry
        return [merged[key] for key in sorted(merged)[-_HISTORY_LIMIT:]]


def _history_rows(store, request):
    """The entries of store a history_request asks for."""
    kind = request.get("hist_access_type") or "tail"
    n = _optional_int(request.get("n"))
    entries = store.entries()

    if kind == "range":
        session = _optional_int(request.get("session")) or 0
        if session <= 0:
            session += store.session  # 0 is this session, -1 the one before
        start = _optional_int(request.get("start"))
        stop = _optional_int(request.get("stop"))
        start = 1 if start is None else start
        return [
            e for e in entries if e[0] == session and e[1] >= start and (not stop or e[1] < stop)
        ]
    if kind == "search":
        pattern = request.get("pattern") or "*"
        entries = [e for e in entries if fnmatch.fnmatchcase(e[2], pattern)]
        if request.get("unique"):
            seen, latest_first = set(), []
            for entry in reversed(entries):
                if entry[2] not in seen:
                    seen.add(entry[2])
                    latest_first.append(entry)
            entries = latest_first[::-1]
        if n is not None:
            entries = entries[-n:] if n > 0 else []
        return entries
    if kind == "tail":
        if n is not None:
            entries = entries[-n:] if n > 0 else []
        return entries
    return []
