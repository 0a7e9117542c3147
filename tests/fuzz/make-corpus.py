#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the fuzz corpora: real messages as jupyter_client signs them.

    tests/fuzz/make-corpus.py tests/fuzz/corpus

Each wire input is one key byte (1: key "fuzz-key") and the frames separated by
0xFF 0x00, the format fuzz-wire.c reads.
"""
import json
import os
import sys

from jupyter_client.session import Session

SEPARATOR = b"\xff\x00"


def wire_inputs():
    session = Session(key=b"fuzz-key", username="fuzz")
    requests = [
        ("kernel_info_request", {}, []),
        (
            "execute_request",
            {
                "code": "print('hi')\n1+1",
                "silent": False,
                "store_history": True,
                "user_expressions": {"x": "1"},
                "allow_stdin": True,
                "stop_on_error": True,
            },
            [],
        ),
        ("complete_request", {"code": "import o", "cursor_pos": 8}, []),
        ("inspect_request", {"code": "zip", "cursor_pos": 3, "detail_level": 1}, []),
        ("is_complete_request", {"code": "for i in range(3):"}, []),
        (
            "history_request",
            {
                "output": True,
                "raw": True,
                "hist_access_type": "search",
                "pattern": "1?2*",
                "unique": True,
                "n": 10,
            },
            [],
        ),
        (
            "comm_msg",
            {"comm_id": "abc", "data": {"method": "update", "state": {"value": 3}}},
            [b"\x00\x01\x02binary"],
        ),
        ("comm_open", {"comm_id": "abc", "target_name": "echo", "data": {}}, []),
        ("shutdown_request", {"restart": True}, []),
        ("interrupt_request", {}, []),
        ("input_reply", {"value": "Ünïcode ✓"}, []),
    ]
    for msg_type, content, buffers in requests:
        msg = session.msg(msg_type, content)
        frames = session.serialize(msg, ident=[b"client-identity"])
        yield msg_type, b"\x01" + SEPARATOR.join(frames + buffers)
        unsigned = Session(key=b"", username="fuzz").serialize(msg)
        yield msg_type + "-unsigned", b"\x00" + SEPARATOR.join(unsigned + buffers)


def connection_files():
    yield "full", {
        "shell_port": 5001,
        "iopub_port": 5002,
        "stdin_port": 5003,
        "control_port": 5004,
        "hb_port": 5005,
        "ip": "127.0.0.1",
        "key": "a0b1c2",
        "transport": "tcp",
        "signature_scheme": "hmac-sha256",
        "kernel_name": "bpy-jupyter-python",
    }
    yield "ipc", {"transport": "ipc", "ip": "/tmp/kernel", "shell_port": 1, "key": ""}
    yield "ipv6", {"ip": "::1", "shell_port": 0}
    yield "empty", {}


def main(out):
    for target in ("fuzz-wire", "fuzz-connection-info", "fuzz-json-check"):
        os.makedirs(os.path.join(out, target), exist_ok=True)
    for name, data in wire_inputs():
        with open(os.path.join(out, "fuzz-wire", name), "wb") as f:
            f.write(data)
        frames = data[1:].split(SEPARATOR)
        # the four JSON frames after the delimiter and signature feed the JSON check
        for index, frame in enumerate(frames[3:7]):
            with open(os.path.join(out, "fuzz-json-check", "%s-%d" % (name, index)), "wb") as f:
                f.write(frame)
    for name, content in connection_files():
        with open(os.path.join(out, "fuzz-connection-info", name), "w") as f:
            json.dump(content, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
