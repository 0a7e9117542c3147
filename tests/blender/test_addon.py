#!/usr/bin/python3
"""The add-on in a real GUI Blender (Debian's, under Xvfb), driven by jupyter_client.

One Blender serves the whole scenario, in order: start through the operator, cells
changing the scene, undo, interrupt, errors that must not end Blender, a client that
vanishes mid-cell, stop and start again (namespace kept), File › New, add-on
disable/enable, the panel in German, and finally quitting Blender with the kernel running.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bjblender import (
    TIMEOUT,
    BlenderTestCase,
    check_interrupt,
    collect,
    execute,  # noqa: E402
    result_text,
    stream_text,
    wait_started,
    wait_until,
)

UNDO_CELL = "import bpy_jupyter\nwith bpy_jupyter.view3d_context():\n    bpy.ops.ed.undo()"


class AddonInGUIBlender(BlenderTestCase):
    """Ordered steps (test_NN_…) sharing one Blender."""

    blender = None
    kc = None
    connection_file = None
    info = None
    unresponsive = None  # why the kernel stopped answering, if it did

    blender_options = {"name": "bj-addon"}

    @classmethod
    def prepare(cls):
        cls.connection_file, cls.info = cls.blender.wait_connection_file()
        cls.kc = cls.blender.client(cls.connection_file)

    def setUp(self):
        super().setUp()
        if self.unresponsive:
            self.fail("the kernel stopped answering in an earlier step: " + self.unresponsive)

    # -- helpers -----------------------------------------------------------
    def run_cell(self, code, kc=None, status="ok", timeout=TIMEOUT, **kwargs):
        try:
            reply, outputs = execute(kc or self.kc, code, timeout=timeout, **kwargs)
        except AssertionError as error:
            # Every later step would wait out its own timeouts: fail them at once.
            type(self).unresponsive = f"{self._testMethodName}: {error}"
            raise
        self.assertEqual(
            reply["status"],
            status,
            f"cell {code!r}: {reply}\n{outputs}\nBlender's log:\n{self.blender.log()}",
        )
        return reply, outputs

    def value(self, expression, kc=None):
        reply, outputs = self.run_cell(expression, kc=kc)
        text = result_text(outputs)
        self.assertIsNotNone(text, f"{expression!r} gave no execute_result: {outputs}")
        return text

    def cube_z(self):
        return self.value("D.objects['Cube'].location.z")

    def later(self, statement, delay=0.1):
        """A cell that schedules `statement` on a timer, to run after the cell."""
        self.run_cell(
            "bpy.app.timers.register(lambda: (%s) and None, first_interval=%r)" % (statement, delay)
        )

    def reconnect(self, old_info):
        """After a (re)start: the new connection file, a client on it, and its info."""
        path, info = self.blender.wait_connection_file()
        self.assertNotEqual(info["key"], old_info["key"], "a new start must use a new key")
        ports = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
        self.assertNotEqual(
            [info[p] for p in ports],
            [old_info[p] for p in ports],
            "a new start must bind new ports",
        )
        self.blender.drop_client(self.kc)
        type(self).kc = self.blender.client(path)
        type(self).connection_file, type(self).info = path, info
        return path, info

    # -- the scenario ------------------------------------------------------
    def test_01_started_by_the_operator(self):
        self.assertRegex(os.path.basename(self.connection_file), r"^kernel-blender-\d+\.json$")
        self.assertEqual(os.stat(self.connection_file).st_mode & 0o777, 0o600)
        self.assertEqual(self.info["ip"], "127.0.0.1")
        self.assertEqual(self.info["transport"], "tcp")
        self.assertEqual(
            self.blender.command(
                "import bpy_jupyter\nresult = bpy_jupyter.current_kernel().connection_file"
            ),
            self.connection_file,
        )
        # The GUI, not background mode.
        self.assertEqual(self.value("bpy.app.background"), "False")

    def test_01b_import_bpy_jupyter(self):
        # As the README has users do, in a cell and from Blender's Python, whether
        # Blender loaded the add-on as `bpy_jupyter` (3.x) or as an extension (4.2+).
        module = self.blender.addon_module
        self.assertEqual(
            self.value(
                "import sys, bpy_jupyter, bpy_jupyter.kernel\n"
                f"(bpy_jupyter is sys.modules[{module!r}],"
                f" bpy_jupyter.kernel is sys.modules[{module!r} + '.kernel'],"
                " bpy_jupyter.current_kernel() is not None)"
            ),
            "(True, True, True)",
        )
        self.assertEqual(
            self.blender.command("import bpy_jupyter\nresult = bpy_jupyter.__name__"), module
        )
        self.assertEqual(
            self.value(
                "with bpy_jupyter.view3d_context():\n"
                "    area_type = bpy.context.area.type\n"
                "area_type"
            ),
            "'VIEW_3D'",
        )

    def test_02_predefined_names_and_print(self):
        self.assertEqual(self.value("C is bpy.context and D is bpy.data and bpy.__name__"), "'bpy'")
        self.assertEqual(self.value("C.scene.name"), "'Scene'")
        _, outputs = self.run_cell("print('hello from', bpy.app.version_string.split()[0])")
        self.assertRegex(stream_text(outputs), r"^hello from \d+\.\d+")

    def test_03_change_the_scene_and_undo_it(self):
        original = self.cube_z()
        self.assertNotIn(original, ("1.0", "2.0", "3.0", "4.0"))
        self.assertEqual(
            self.value("D.objects['Cube'].location.z = 2\nD.objects['Cube'].location.z"), "2.0"
        )
        self.run_cell(UNDO_CELL)
        self.assertEqual(self.cube_z(), original)

        # Each cell is one undo step: an undo from the very next cell (sent at once,
        # so possibly handled in the same tick of the add-on's timer) undoes that
        # cell only: back to the 1 the cell before set, not further.
        self.run_cell("D.objects['Cube'].location.z = 1")
        self.run_cell("D.objects['Cube'].location.z = 2")
        self.run_cell(UNDO_CELL)
        self.assertEqual(self.cube_z(), "1.0")

        # The same with the cells sent all at once, as "Run All" in a notebook does:
        # the add-on's timer then runs them in one tick, and each must still be its
        # own undo step by the time the next one runs.
        cells = ["D.objects['Cube'].location.z = 3", "D.objects['Cube'].location.z = 4", UNDO_CELL]
        msg_ids = [self.kc.execute(code) for code in cells]
        for code, msg_id in zip(cells, msg_ids):
            reply, outputs = collect(self.kc, msg_id)
            self.assertEqual(reply["status"], "ok", f"{code!r}: {reply}")
        self.assertEqual(self.cube_z(), "3.0")
        self.run_cell(f"D.objects['Cube'].location.z = {original}")

    def test_04_interrupt(self):
        def interrupt_request_on_control():
            interrupt = self.kc.session.msg("interrupt_request", {})
            self.kc.control_channel.send(interrupt)
            control = self.kc.get_control_msg(timeout=TIMEOUT)
            self.assertEqual(control["msg_type"], "interrupt_reply")
            self.assertEqual(control["parent_header"]["msg_id"], interrupt["header"]["msg_id"])

        check_interrupt(self, self.kc, interrupt_request_on_control)
        self.assertEqual(self.value("6 * 7"), "42")

    def test_05_system_exit_and_keyboard_interrupt_keep_blender(self):
        for code, ename in (
            ("raise SystemExit", "SystemExit"),
            ("import sys; sys.exit(3)", "SystemExit"),
            ("exit_code = 0\nraise SystemExit(exit_code)", "SystemExit"),
            ("raise KeyboardInterrupt", "KeyboardInterrupt"),
        ):
            with self.subTest(code=code):
                reply, _ = self.run_cell(code, status="error")
                self.assertEqual(reply["ename"], ename)
                time.sleep(0.2)
                self.assertTrue(self.blender.alive(), "Blender exited:\n" + self.blender.log())
                self.assertEqual(self.value("1 + 1"), "2")

    def test_06_client_vanishing_mid_cell(self):
        other = self.blender.client(self.connection_file)
        msg_id = other.execute("import time\ntime.sleep(1)\nvanished_cell_done = True")
        wait_started(other, msg_id)
        self.blender.drop_client(other)  # closes its sockets while the cell sleeps
        # Queued behind the sleeping cell; answered once it finished.
        self.assertEqual(self.value("vanished_cell_done"), "True")
        time.sleep(0.3)
        self.assertTrue(self.blender.alive())
        # A newcomer is served as usual.
        newcomer = self.blender.client(self.connection_file)
        self.assertEqual(self.value("'still here'", kc=newcomer), "'still here'")
        self.blender.drop_client(newcomer)

    def test_07_stop_and_start_again(self):
        self.run_cell("kept_across_stop = 1234")
        old_info = self.info
        self.later("bpy.ops.bpy_jupyter.stop_kernel()")
        self.blender.wait_no_connection_file()
        self.assertIsNone(
            self.blender.command("import bpy_jupyter\n" "result = bpy_jupyter.current_kernel()")
        )
        self.blender.command("bpy.ops.bpy_jupyter.start_kernel()")
        self.reconnect(old_info)
        self.assertEqual(self.value("kept_across_stop"), "1234")

    def test_08_file_new_keeps_the_kernel(self):
        self.assertEqual(
            self.value("D.objects['Cube'].location.x = 5\n" "D.objects['Cube'].location.x"), "5.0"
        )
        self.later("bpy.ops.wm.read_homefile()")
        # The file is new once the Cube is back where the startup file has it.
        wait_until(lambda: self.cube_x() == "0.0", TIMEOUT, "File › New to take effect")
        self.assertTrue(os.path.exists(self.connection_file))
        self.assertEqual(self.value("D.objects['Cube'].name"), "'Cube'")
        self.assertEqual(self.value("C.scene.name"), "'Scene'")
        # Operators needing an area still find one in the new file's screens.
        self.run_cell("with bpy_jupyter.view3d_context():\n    bpy.ops.view3d.view_all()")

    def cube_x(self):
        return self.value("D.objects['Cube'].location.x")

    def test_09_disable_enable_addon_stops_cleanly(self):
        old_info = self.info
        module = self.blender.addon_module
        self.run_cell("import addon_utils")
        self.later(
            f"addon_utils.disable({module!r}, default_set=True), "
            f"addon_utils.enable({module!r}, default_set=True)"
        )
        self.blender.wait_no_connection_file()
        self.assertTrue(self.blender.alive())
        self.assertTrue(
            self.blender.command(
                "import addon_utils\n" f"result = addon_utils.check({module!r})[1]"
            ),
            "the add-on is not enabled again",
        )
        # `import bpy_jupyter` names the re-enabled add-on, not a stale copy.
        self.assertTrue(
            self.blender.command(
                "import sys, bpy_jupyter\n"
                f"result = bpy_jupyter is sys.modules[{module!r}] and "
                f"bpy_jupyter.kernel is sys.modules[{module!r} + '.kernel']"
            )
        )
        self.blender.command("bpy.ops.bpy_jupyter.start_kernel()")
        self.reconnect(old_info)
        self.assertEqual(self.value("kept_across_stop"), "1234")
        self.assertEqual(self.value("D.objects['Cube'].name"), "'Cube'")

    def test_10_panel_in_german(self):
        # Blender's own switch, as a user flips it in Preferences › Interface; the
        # add-on (re-enabled by the previous step) brings its German from po/de.po.
        labels = self.blender.command(
            "import bpy, bpy_jupyter.i18n\n"
            "T = bpy.app.translations\n"
            "view = bpy.context.preferences.view\n"
            "view.language = 'de_DE'\n"
            "view.use_translate_interface = True\n"
            "try:\n"
            "    panel = bpy.types.BPY_JUPYTER_PT_view3d\n"
            "    sub = bpy.types.BPY_JUPYTER_PT_view3d_connection\n"
            "    op = bpy.types.BPY_JUPYTER_OT_stop_kernel\n"
            "    result = [T.locale,\n"
            "              T.pgettext_iface(panel.bl_label, panel.bl_rna.translation_context),\n"
            "              T.pgettext_iface(sub.bl_label, sub.bl_rna.translation_context),\n"
            "              T.pgettext_iface(op.bl_label, op.bl_rna.translation_context),\n"
            "              bpy_jupyter.i18n._('Cells run: %d') % 3]\n"
            "finally:\n"
            "    view.use_translate_interface = False\n"
            "    view.language = 'en_US'\n"
        )
        self.assertEqual(
            labels,
            ["de_DE", "Jupyter-Kernel", "Verbindung", "Kernel beenden", "Ausgeführte Zellen: 3"],
        )
        self.assertEqual(
            self.blender.command("result = bpy.app.translations.pgettext_iface('Connection')"),
            "Connection",
        )

    def test_99_quit_with_the_kernel_running(self):
        path = self.connection_file
        self.assertTrue(os.path.exists(path))
        self.later("bpy.ops.wm.quit_blender()")
        code = self.blender.wait_exit(timeout=30)
        self.assertEqual(code, 0, "Blender's exit code; its log:\n" + self.blender.log())
        self.assertFalse(os.path.exists(path), "quitting Blender left the connection file")


if __name__ == "__main__":
    unittest.main(verbosity=2)
