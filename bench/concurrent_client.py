#!/usr/bin/python3
"""One of the N clients of the "clients at once" measure, as a process of its own
(no GIL or zmq context shared with the others).

    concurrent_client.py CONNECTION_FILE N_CELLS TIMEOUT

Connects (raw pyzmq, bench/rawclient.py), prints "ready", waits for a line on
stdin, then executes N_CELLS `1+1` one after the other, each until both its reply
and its idle arrived, and prints one JSON line: {"latencies": [s…], "errors": […]}.
Of the other clients' iopub messages only the parent header is parsed.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import rawclient  # noqa: E402


def main():
    path, n_cells, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    with open(path) as f:
        conn = json.load(f)
    c = rawclient.RawClient(conn)
    lat, errors = [], []
    try:
        c.wait_ready(60)
        print("ready", flush=True)
        sys.stdin.readline()
        for _ in range(n_cells):
            t0 = time.perf_counter()
            mid = c.execute_request("1+1")
            deadline = t0 + timeout
            reply = idle = False
            try:
                while not (reply and idle):
                    left = deadline - time.perf_counter()
                    if left <= 0:
                        raise rawclient.BenchTimeout("no reply and idle within %.0f s" % timeout)
                    for s, _ in c.poller.poll(max(1, int(left * 1000))):
                        frames = s.recv_multipart()
                        i = frames.index(b"<IDS|MSG>")
                        if json.loads(frames[i + 3]).get("msg_id") != mid:
                            continue
                        if s is c.shell:
                            content = json.loads(frames[i + 5])
                            if content.get("status") != "ok":
                                raise RuntimeError("execute failed: %r" % content)
                            reply = True
                        elif (
                            json.loads(frames[i + 2])["msg_type"] == "status"
                            and json.loads(frames[i + 5]).get("execution_state") == "idle"
                        ):
                            idle = True
                lat.append(time.perf_counter() - t0)
            except Exception as e:  # noqa: BLE001  counted as lost by the parent
                errors.append(repr(e))
                if len(errors) > 3:
                    break
    except Exception as e:  # noqa: BLE001
        errors.append(repr(e))
    finally:
        c.close()
        rawclient.term_context()
    print(json.dumps({"latencies": lat, "errors": errors}), flush=True)


if __name__ == "__main__":
    main()
