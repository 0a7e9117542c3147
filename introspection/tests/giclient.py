#!/usr/bin/python3
"""A jupyter_client session, run as a separate process by the gir tests.

    giclient.py CONNECTION_FILE STEPS_JSON

STEPS_JSON is a list of steps, each an object with "op":
  {"op": "kernel_info"}                       → the kernel_info_reply content
  {"op": "execute", "code": "...", ...}       → {"reply": content, "iopub": [[type, content], …]}
      any other keys are passed to execute() (silent, store_history, allow_stdin …)
  {"op": "execute_and_interrupt", "code": "...", "delay": 0.5}
                                              → the same, plus "interrupt_reply"
  {"op": "complete", "code": "...", "cursor_pos": n}
  {"op": "is_complete", "code": "..."}
  {"op": "shell", "msg_type": "...", "content": {...}}  → the reply content
  {"op": "shutdown", "restart": false}        → the shutdown_reply content
The results, one per step, are printed as a JSON list on stdout.

It is a separate process so that a kernel hosted in the test's own interpreter can
keep iterating its main loop while this client waits for replies.
"""

import json
import sys
import time

from jupyter_client import BlockingKernelClient

TIMEOUT = 30


def reply_for(get_msg, msg_id, timeout=TIMEOUT):
    """The next message whose parent is msg_id, from kc.get_shell_msg or kc.get_control_msg
    (BlockingKernelClient's own methods: synchronous in jupyter_client 7 and 8 alike)."""
    deadline = time.monotonic() + timeout
    while True:
        msg = get_msg(timeout=max(0.01, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def iopub_until_idle(kc, msg_id, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    messages = []
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.01, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append([msg["msg_type"], msg["content"]])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages


def run(connection_file, steps):
    kc = BlockingKernelClient(connection_file=connection_file)
    kc.load_connection_file()
    kc.start_channels()
    results = []
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        for step in steps:
            step = dict(step)
            op = step.pop("op")
            if op == "kernel_info":
                results.append(reply_for(kc.get_shell_msg, kc.kernel_info())["content"])
            elif op == "execute":
                code = step.pop("code")
                msg_id = kc.execute(code, **step)
                reply = reply_for(kc.get_shell_msg, msg_id)
                results.append({"reply": reply["content"], "iopub": iopub_until_idle(kc, msg_id)})
            elif op == "execute_and_interrupt":
                # Runs code that does not end by itself, interrupts it after a delay.
                msg_id = kc.execute(step.pop("code"))
                time.sleep(step.pop("delay", 0.5))
                interrupt = kc.session.msg("interrupt_request", {})
                kc.control_channel.send(interrupt)
                interrupt_reply = reply_for(kc.get_control_msg, interrupt["header"]["msg_id"])
                reply = reply_for(kc.get_shell_msg, msg_id)
                results.append(
                    {
                        "reply": reply["content"],
                        "iopub": iopub_until_idle(kc, msg_id),
                        "interrupt_reply": interrupt_reply["content"],
                    }
                )
            elif op == "complete":
                msg_id = kc.complete(step["code"], step.get("cursor_pos"))
                results.append(reply_for(kc.get_shell_msg, msg_id)["content"])
            elif op == "is_complete":
                msg_id = kc.is_complete(step["code"])
                results.append(reply_for(kc.get_shell_msg, msg_id)["content"])
            elif op == "shell":
                msg = kc.session.msg(step["msg_type"], step.get("content", {}))
                kc.shell_channel.send(msg)
                results.append(reply_for(kc.get_shell_msg, msg["header"]["msg_id"])["content"])
            elif op == "shutdown":
                msg = kc.session.msg("shutdown_request", {"restart": step.get("restart", False)})
                kc.control_channel.send(msg)
                results.append(reply_for(kc.get_control_msg, msg["header"]["msg_id"])["content"])
            else:
                raise ValueError(f"unknown step {op!r}")
    finally:
        kc.stop_channels()
    return results


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    json.dump(run(sys.argv[1], json.loads(sys.argv[2])), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
