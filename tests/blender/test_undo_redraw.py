#!/usr/bin/python3
"""Undo steps and redraws after cells (issue 15), in a real GUI Blender under Xvfb.

A cell that changed Blender data gets one undo step ("Jupyter cell [n]"); a cell that
only read gets none, so Ctrl+Z after read-only cells still undoes the last change. A
read-only cell redraws nothing; a changing one redraws the 3D view. Draws are counted
by a draw handler on the 3D view's main region (SpaceView3D.draw_handler_add),
installed through the test driver's command server, not through the kernel.

Undo steps are checked by what an undo does: Blender's Python has no access to the
undo stack. To tell "this cell pushed a step" from "the undo went one step further
back", each case starts with a changing cell whose state the undo must land on.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bjblender import TIME_SCALE, BlenderTestCase, execute, fail, result_text  # noqa: E402

UNDO_CELL = "import bpy_jupyter\nwith bpy_jupyter.view3d_context():\n    bpy.ops.ed.undo()"
REDO_CELL = "import bpy_jupyter\nwith bpy_jupyter.view3d_context():\n    bpy.ops.ed.redo()"
CUBE_X = "round(D.objects['Cube'].location.x, 3)"

COUNT_DRAWS = r'''
bj_draws = [0]
def _bj_count_draw():
    bj_draws[0] += 1
bj_draw_handle = bpy.types.SpaceView3D.draw_handler_add(_bj_count_draw, (), "WINDOW", "POST_PIXEL")
result = len([a for w in bpy.context.window_manager.windows for a in w.screen.areas
              if a.type == "VIEW_3D"])
'''

# With software GL one 3D-view draw takes 0.2–0.7 s, more on a loaded machine: the
# view counts as quiet once no draw happened for this long.
QUIET_S = 2.0 * TIME_SCALE
DRAW_TIMEOUT = 20.0 * TIME_SCALE


class UndoAndRedrawAfterCells(BlenderTestCase):
    """Ordered steps (test_NN_…) sharing one Blender."""

    blender = None
    kc = None

    blender_options = {"name": "bj-undo"}

    @classmethod
    def prepare(cls):
        path, _ = cls.blender.wait_connection_file()
        cls.kc = cls.blender.client(path)
        if cls.blender.command(COUNT_DRAWS) < 1:
            fail("no 3D View in the factory startup file")

    # -- helpers -----------------------------------------------------------
    def run_cell(self, code, status="ok"):
        reply, outputs = execute(self.kc, code)
        self.assertEqual(
            reply["status"],
            status,
            f"cell {code!r}: {reply}\n{outputs}\nBlender's log:\n{self.blender.log()}",
        )
        return reply, outputs

    def value(self, expression):
        _, outputs = self.run_cell(expression)
        text = result_text(outputs)
        self.assertIsNotNone(text, f"{expression!r} gave no execute_result: {outputs}")
        return text

    def cube_x(self):
        return float(self.value(CUBE_X))

    def draws(self):
        return self.blender.command("result = bj_draws[0]")

    def quiet_draws(self):
        """The draw count once the 3D view has stopped drawing."""
        deadline = time.monotonic() + 6 * QUIET_S + DRAW_TIMEOUT
        count = self.draws()
        while True:
            time.sleep(QUIET_S)
            now = self.draws()
            if now == count:
                return now
            if time.monotonic() > deadline:
                fail(f"the 3D view kept drawing ({count} → {now} draws)")
            count = now

    def wait_draw(self, after, what):
        deadline = time.monotonic() + DRAW_TIMEOUT
        while self.draws() <= after:
            if time.monotonic() > deadline:
                fail(f"the 3D view was not redrawn within {DRAW_TIMEOUT:.0f}s after {what}")
            time.sleep(0.05)

    # -- the scenario ------------------------------------------------------
    def test_01_read_only_cells_add_no_undo_step(self):
        # Issue 15's recipe: move the cube, run two cells that only read, undo.
        before = self.cube_x()
        self.run_cell("D.objects['Cube'].location.x += 1")
        self.assertEqual(self.cube_x(), before + 1)
        self.run_cell("print(D.objects['Cube'].location, len(D.objects))")
        self.value("sorted(o.name for o in D.objects)")
        self.run_cell(UNDO_CELL)
        self.assertEqual(
            self.cube_x(),
            before,
            "the undo did not undo the move: " "a read-only cell added an undo step",
        )

    def test_02_read_only_cells_do_not_redraw(self):
        quiet = self.quiet_draws()
        for code in (
            "1 + 1",
            CUBE_X,
            "len(D.meshes)",
            "dg = C.evaluated_depsgraph_get()\n" "D.objects['Cube'].evaluated_get(dg).matrix_world",
        ):
            self.run_cell(code)
        time.sleep(QUIET_S)
        self.assertEqual(self.draws(), quiet, "read-only cells redrew the 3D view")

    def test_03_changing_cells_redraw_the_3d_view(self):
        # An RNA change: Blender's own notifier redraws the view.
        quiet = self.quiet_draws()
        self.run_cell("D.objects['Cube'].location.y += 0.5")
        self.wait_draw(quiet, "a cell that moved the cube")
        # update_tag() sends no notifier: the add-on's own tag redraws the view.
        quiet = self.quiet_draws()
        self.run_cell("D.objects['Cube'].update_tag()")
        self.wait_draw(quiet, "a cell that called update_tag()")

    def test_04_one_undo_removes_an_added_cube(self):
        self.run_cell("D.objects['Cube'].location.x = 7")
        names = self.value("sorted(o.name for o in D.objects)")
        self.run_cell("bpy.ops.mesh.primitive_cube_add(location=(0, 3, 0))")
        self.assertEqual(self.value("len(D.objects)"), str(len(eval(names)) + 1))
        self.run_cell(UNDO_CELL)
        self.assertEqual(self.value("sorted(o.name for o in D.objects)"), names)
        self.assertEqual(self.cube_x(), 7.0, "the undo went past the cell that added the cube")

    def test_05_custom_property_with_mark_changed(self):
        self.run_cell("D.objects['Cube'].location.x = 5")
        self.run_cell(
            "import bpy_jupyter\n"
            "D.objects['Cube']['bj_weight'] = 2.5\n"
            "bpy_jupyter.mark_changed()"
        )
        self.assertEqual(self.value("D.objects['Cube']['bj_weight']"), "2.5")
        self.run_cell(UNDO_CELL)
        self.assertEqual(self.value("'bj_weight' in D.objects['Cube']"), "False")
        self.assertEqual(
            self.cube_x(), 5.0, "the undo went past the cell that called mark_changed()"
        )

    def test_06_a_cell_that_raises_after_a_change_keeps_its_step(self):
        self.run_cell("D.objects['Cube'].location.x = 4")
        reply, _ = self.run_cell(
            "D.objects['Cube'].location.x = 6\n" "raise ValueError('after the change')",
            status="error",
        )
        self.assertEqual(reply["ename"], "ValueError")
        self.assertEqual(self.cube_x(), 6.0)
        self.run_cell(UNDO_CELL)
        self.assertEqual(self.cube_x(), 4.0, "the cell that raised got no undo step")

    def test_07_undo_cells_and_read_only_cells_keep_redo(self):
        # After test 06's undo: neither that undo cell nor a read-only cell pushed a
        # step, which would have dropped the redo step of x = 6.
        self.assertEqual(self.cube_x(), 4.0)
        self.run_cell(REDO_CELL)
        self.assertEqual(self.cube_x(), 6.0, "redo found nothing to redo")


if __name__ == "__main__":
    unittest.main(verbosity=2)
