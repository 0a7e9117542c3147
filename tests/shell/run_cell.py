"""Runs one cell through jupyter_client: run_cell.py CONNECTION_FILE CODE.

Prints the execute_reply's content as JSON on stdout; exits 1 unless its status is ok.
Used by the gjs tests of the shell suite, which have no Jupyter client of their own."""

import json
import sys

from jupyter_client import BlockingKernelClient


def main():
    connection_file, code = sys.argv[1], sys.argv[2]
    kc = BlockingKernelClient(connection_file=connection_file)
    kc.load_connection_file()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=20)
        reply = kc.execute_interactive(code, timeout=30, output_hook=lambda msg: None)
    finally:
        kc.stop_channels()
    print(json.dumps(reply["content"]))
    return 0 if reply["content"]["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
