#!/usr/bin/python3
"""Many start/stop cycles through the add-on's operators in a real GUI Blender,
then a cell must still run: the kernel started last is served by the add-on's pump.

A Start answers kernel_info_request from the kernel's I/O thread alone; only a cell
shows that Blender's main thread serves the kernel. The bench once saw a kernel
started after 100 cycles answer kernel_info yet never run a cell (docs/benchmarks.md).
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bjblender import TIMEOUT, BlenderGUI, execute, result_text  # noqa: E402

# n cycles in one command: Blender's loop (and the pump) run only between commands.
CYCLES = r'''
import os, bpy_jupyter
_problems = []
for _i in range({n}):
    if bpy.ops.bpy_jupyter.start_kernel() != {{"FINISHED"}}:
        _problems.append("start %d did not finish: %s" % (_i, bpy_jupyter.kernel.last_error))
        break
    _path = bpy_jupyter.current_kernel().connection_file
    if bpy.ops.bpy_jupyter.stop_kernel() != {{"FINISHED"}}:
        _problems.append("stop %d did not finish" % _i)
        break
    if os.path.exists(_path):
        _problems.append("connection file left after stop %d" % _i)
result = _problems
'''

START = 'result = sorted(bpy.ops.bpy_jupyter.start_kernel())'
STOP = 'result = sorted(bpy.ops.bpy_jupyter.stop_kernel())'
PUMP = (
    'from bpy_jupyter import kernel as _k\n'
    'result = [bpy.app.timers.is_registered(_k._pump), _k.state()]'
)

ROUNDS = 2
CYCLES_PER_ROUND = 200
CHUNK = 50


class CyclesThenCell(unittest.TestCase):
    def test_cells_run_after_start_stop_cycles(self):
        blender = BlenderGUI(start_kernel=False, name="bj-cycles")
        try:
            blender.command("result = 1", timeout=TIMEOUT * 4)
            for r in range(ROUNDS):
                for done in range(0, CYCLES_PER_ROUND, CHUNK):
                    problems = blender.command(CYCLES.format(n=CHUNK), timeout=TIMEOUT * 4)
                    self.assertEqual(problems, [], f"round {r}, cycles from {done}")
                self.assertEqual(blender.command(START), ["FINISHED"])
                path, _ = blender.wait_connection_file()
                # A first client that only asks kernel_info, as the bench's does.
                blender.drop_client(blender.client(path))
                kc = blender.client(path)
                try:
                    reply, outputs = execute(kc, "%d + 1" % r, timeout=TIMEOUT * 2)
                except AssertionError as error:
                    self.fail(
                        f"round {r}: no cell ran after {CYCLES_PER_ROUND} cycles "
                        f"(pump registered, state: {blender.command(PUMP)}): {error}"
                    )
                self.assertEqual(reply["status"], "ok")
                self.assertEqual(result_text(outputs), str(r + 1))
                blender.drop_client(kc)
                self.assertEqual(blender.command(STOP), ["FINISHED"])
                blender.wait_no_connection_file()
        finally:
            problems = blender.close()
        self.assertEqual(problems, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
