"""The panel indicator in a real, headless GNOME Shell (see bjshell.py), with the
extension staged from the build folder and real `bpy-jupyter-kernel --dbus` hosts on
the Shell's session bus:

- enabled with no host, the indicator is hidden; a host appears (stopped), starts
  over D-Bus (idle); a cell run from jupyter_client turns it busy (a different icon
  and style class) and back to idle, and its ExecutionCount reaches the menu;
- the menu lists the host with its actions; "Copy connection file path" and "Copy
  jupyter console command" fill the clipboard; Stop from the menu (activated through
  org.gnome.Shell.Eval) stops the kernel (State on D-Bus), Start starts it again;
- a host whose Start fails shows the service's message in a notification;
- the indicator disappears when the last host quits, disabling the extension
  removes it from the panel, enabling it again finds the hosts already there;
- the Shell logs no JavaScript error on the way.

Screenshots of the panel (idle and busy), the open menu and the error notification
go to BJ_SCREENSHOT_DIR;
BJ_UPDATE_DOCS=1 also copies them into docs/screenshots/ for the README.
"""

import json
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bjshell  # noqa: E402  (re-runs this script on a private session bus)
from bjshell import bjdbus  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXTENSION_DIR = bjshell.extension_dir()
SCREENSHOT_DIR = os.environ.get("BJ_SCREENSHOT_DIR") or bjdbus.tmp_path("screenshots")

INDICATOR = "Main.extensionManager.lookup(%s).stateObj.indicator" % json.dumps(bjshell.UUID)


def js(value):
    return json.dumps(value)


class Panel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.shell = bjshell.Shell(EXTENSION_DIR)

    @classmethod
    def tearDownClass(cls):
        cls.shell.close()
        # What the Shell said about JavaScript and extensions, for the test log.
        with open(cls.shell.log_path, "rb") as f:
            for line in f.read().decode("utf-8", "replace").splitlines():
                if any(word in line for word in ("JS", "xtension", "bpy-jupyter", "Gjs")):
                    sys.stderr.write("gnome-shell: %s\n" % line)

    def describe(self):
        return self.shell.eval(INDICATOR + ".describe()")

    def wait_state(self, state, timeout=10):
        """Waits for the icon's state: a summary of the hosts, where a kernel that
        is starting or stopping already (or still) counts as idle."""
        return self.shell.wait_eval(
            INDICATOR + ".describe().state", timeout, "indicator state", expected=state
        )

    def wait_host_state(self, bus_name, state, timeout=10):
        """Waits for the exact State of one host, as its menu section has it."""
        return self.shell.wait_eval(
            "%s.describe().hosts.find(h => h.busName === %s).state" % (INDICATOR, js(bus_name)),
            timeout,
            "the state of %s in the menu" % bus_name,
            expected=state,
        )

    def activate(self, bus_name, action):
        """Activates a host's menu item as a click does (the menu is opened first)."""
        self.shell.eval(INDICATOR + ".button.menu.open(false)")
        self.shell.eval(
            "%s.menuItem(%s, %s).activate(imports.gi.Clutter.get_current_event())"
            % (INDICATOR, js(bus_name), js(action))
        )

    def clipboard(self):
        self.shell.eval(
            "globalThis.__bjClipboard = null; imports.gi.St.Clipboard.get_default()"
            ".get_text(imports.gi.St.ClipboardType.CLIPBOARD,"
            " (c, text) => { globalThis.__bjClipboard = text; }); true"
        )
        return self.shell.wait_eval(
            "globalThis.__bjClipboard !== null", 5, "clipboard"
        ) and self.shell.eval("globalThis.__bjClipboard")

    def notifications(self):
        """[title, body] of the notifications shown since the extension was enabled
        (the Shell shows some of its own at startup, e.g. about running as root)."""
        # The body is `bannerBodyText` up to Shell 45, the `body` property from 46.
        every = self.shell.eval(
            "Main.messageTray.getSources().flatMap(s => s.notifications)"
            ".map(n => [n.title, n.body ?? n.bannerBodyText])"
        )
        return [n for n in every if n not in self.shell_notifications]

    def screenshot_area(self, path, x, y, w, h):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        ok, _ = bjdbus.call(
            bjshell.SHELL_NAME,
            "ScreenshotArea",
            bjshell.GLib.Variant("(iiiibs)", (x, y, w, h, False, path)),
            "(bs)",
            interface="org.gnome.Shell.Screenshot",
            path="/org/gnome/Shell/Screenshot",
        )
        self.assertTrue(ok and os.path.getsize(path) > 0, path)
        return path

    def screenshot_panel(self, name):
        path = os.path.join(SCREENSHOT_DIR, name)
        # The right half of the top bar: the clock and the status indicators.
        return self.screenshot_area(path, 560, 0, 720, 32)

    def screenshot_menu(self, name):
        path = os.path.join(SCREENSHOT_DIR, name)
        x, y, w, h = self.shell.eval(
            "(() => { const a = %s.button.menu.actor;"
            " const [x, y] = a.get_transformed_position();"
            " const [w, h] = a.get_transformed_size();"
            " return [x, y, w, h].map(Math.round); })()" % INDICATOR
        )
        self.assertGreater(w, 100, "menu width")
        self.assertGreater(h, 100, "menu height")
        left = max(0, min(x - 16, 1280 - 560))
        width = min(1280 - left, max(560, w + 32))
        return self.screenshot_area(path, left, 0, width, min(800, y + h + 16))

    def test_indicator(self):
        shell = self.shell
        info = shell.extension_info()
        self.assertEqual(info.get("uuid"), bjshell.UUID, "Shell found the staged extension")
        self.assertEqual(info.get("gettext-domain"), "bpy-jupyter")
        shell.enable_extension()
        shell.wait_extension_enabled()
        self.assertEqual(shell.extension_info().get("error", ""), "")
        # The Shell's own startup notices (running as root, no screen lock) go, so
        # the screenshots show the indicator alone; any later one counts.
        shell.eval("Main.messageTray.getSources().forEach(s => s.destroy())")
        self.shell_notifications = []
        self.shell_notifications = self.notifications()
        shell.eval("Main.overview.hide()")
        shell.wait_eval("Main.overview.visible", 10, "the overview hidden", expected=False)

        # No host: nothing in the top bar.
        self.assertTrue(
            shell.eval("Main.panel.statusArea[%s] === %s.button" % (js(bjshell.UUID), INDICATOR))
        )
        described = self.describe()
        self.assertEqual(described["state"], "none")
        self.assertFalse(described["visible"])

        # A host appears, stopped; starting it over D-Bus makes it idle.
        service = bjdbus.Service()
        self.wait_state("stopped")
        described = self.describe()
        self.assertTrue(described["visible"])
        self.assertEqual(described["icon"], "bpy-jupyter-stopped-symbolic.svg")
        self.assertIn("bpy-jupyter-stopped", described["styleClass"])
        path = bjdbus.start(service.name)
        self.wait_state("idle")
        self.wait_host_state(service.name, "idle")
        described = self.describe()
        self.assertEqual(described["icon"], "bpy-jupyter-idle-symbolic.svg")
        self.assertIn("bpy-jupyter-idle", described["styleClass"])
        self.assertNotIn("bpy-jupyter-busy", described["styleClass"])
        [host] = described["hosts"]
        self.assertEqual(host["busName"], service.name)
        self.assertEqual(host["pid"], service.pid)
        self.assertEqual(host["connectionFile"], path)
        self.assertTrue(host["host"].startswith("bpy-jupyter-kernel "), host)
        self.assertEqual(host["title"], host["host"] + " — idle")
        self.assertEqual(host["detail"], "No document · 0 executions")
        shell.wait_eval(
            INDICATOR + ".button.visible && %s.icon.mapped" % INDICATOR, 5, "icon mapped"
        )
        time.sleep(0.3)  # a frame or two for the icon to be painted
        idle_png = self.screenshot_panel("shell-panel.png")

        # A cell from jupyter_client: busy (another icon and style) while it runs.
        from jupyter_client import BlockingKernelClient

        kc = BlockingKernelClient(connection_file=path)
        kc.load_connection_file()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=20)
            msg_id = kc.execute("import time; time.sleep(2.5)")
            self.wait_state("busy")
            described = self.describe()
            self.assertEqual(described["icon"], "bpy-jupyter-busy-symbolic.svg")
            self.assertIn("bpy-jupyter-busy", described["styleClass"])
            self.assertNotIn("bpy-jupyter-idle", described["styleClass"])
            items = described["hosts"][0]["items"]
            self.assertTrue(items["interrupt"]["sensitive"], "Interrupt offered while busy")
            self.assertFalse(items["restart"]["sensitive"], "no Restart while busy")
            self.assertTrue(items["startStop"]["sensitive"], "Stop offered while busy")
            time.sleep(0.3)
            busy_png = self.screenshot_panel("shell-panel-busy.png")
            reply = kc.get_shell_msg(timeout=20)
            while reply["parent_header"].get("msg_id") != msg_id:
                reply = kc.get_shell_msg(timeout=20)
            self.assertEqual(reply["content"]["status"], "ok")
        finally:
            kc.stop_channels()
        self.wait_state("idle")
        count = reply["content"]["execution_count"]
        shell.wait_eval(
            INDICATOR + ".describe().hosts[0].executionCount",
            5,
            "ExecutionCount in the menu",
            expected=count,
        )
        self.assertEqual(
            self.describe()["hosts"][0]["detail"],
            "No document · %d execution%s" % (count, "" if count == 1 else "s"),
        )
        with open(idle_png, "rb") as a, open(busy_png, "rb") as b:
            self.assertNotEqual(a.read(), b.read(), "busy looks like idle")

        # The menu: the host and its actions.
        shell.eval(INDICATOR + ".button.menu.open(false)")
        shell.wait_eval(INDICATOR + ".describe().menuOpen", 5, "the menu open")
        items = self.describe()["hosts"][0]["items"]
        self.assertEqual(
            {k: v["label"] for k, v in items.items()},
            {
                "startStop": "Stop",
                "interrupt": "Interrupt",
                "restart": "Restart",
                "copyPath": "Copy connection file path",
                "copyCommand": "Copy jupyter console command",
            },
        )
        self.assertEqual(
            {k: v["sensitive"] for k, v in items.items()},
            {
                "startStop": True,
                "interrupt": False,
                "restart": True,
                "copyPath": True,
                "copyCommand": True,
            },
        )

        self.activate(service.name, "copyPath")
        self.assertEqual(self.clipboard(), path)
        self.activate(service.name, "copyCommand")
        self.assertEqual(self.clipboard(), "jupyter console --existing " + path)

        # Restart from the menu keeps the connection file.
        before = bjdbus.get(service.name, "ExecutionCount")
        watcher = bjdbus.PropertiesWatcher(service.unique_name)
        self.activate(service.name, "restart")
        watcher.wait_states(["stopping", "stopped", "starting", "idle"])
        watcher.close()
        self.wait_host_state(service.name, "idle")
        self.assertEqual(bjdbus.get(service.name, "ConnectionFile"), path)
        self.assertEqual(bjdbus.get(service.name, "ExecutionCount"), before)

        # Stop from the menu stops the kernel.
        self.activate(service.name, "startStop")
        bjdbus.wait_for(
            lambda: bjdbus.get(service.name, "State") == "stopped",
            10,
            what="State stopped on D-Bus after Stop from the menu",
        )
        self.assertFalse(os.path.exists(path), "Stop left the connection file")
        self.wait_state("stopped")
        items = self.describe()["hosts"][0]["items"]
        self.assertEqual(items["startStop"], {"label": "Start", "sensitive": True})
        self.assertFalse(items["copyPath"]["sensitive"])
        self.assertEqual(self.notifications(), [], "no error so far")

        # Start from the menu. The icon turns idle as soon as the kernel is starting:
        # the host's own state says when it is ready.
        self.activate(service.name, "startStop")
        self.wait_state("idle")
        self.wait_host_state(service.name, "idle")
        self.assertEqual(bjdbus.get(service.name, "State"), "idle")

        # A second host whose Start fails: its message comes as a notification.
        bad = bjdbus.tmp_path("bad-connection.json")
        with open(bad, "w") as f:
            f.write("{not json")
        broken = bjdbus.Service([bjdbus.KERNEL_BINARY, "--dbus", "--idle-timeout", "0", "-f", bad])
        shell.wait_eval(INDICATOR + ".describe().hosts.length", 10, "two hosts", expected=2)
        described = self.describe()
        self.assertEqual(described["count"], "2")
        self.assertEqual(described["state"], "idle", "idle wins over stopped")
        self.assertEqual(
            described["hosts"][1]["title"], described["hosts"][1]["host"] + " — stopped"
        )
        shell.eval(INDICATOR + ".button.menu.open(false)")
        shell.wait_eval(INDICATOR + ".describe().menuOpen", 5, "the menu open")
        time.sleep(0.3)
        menu_png = self.screenshot_menu("shell-menu.png")
        with self.assertRaises(bjdbus.DBusError) as raised:
            bjdbus.start(broken.name)
        expected_message = raised.exception.message
        self.activate(broken.name, "startStop")
        bjdbus.wait_for(self.notifications, 10, what="a notification")
        [[title, body]] = self.notifications()
        self.assertEqual(title, "Could not start the kernel of " + described["hosts"][1]["host"])
        self.assertEqual(body, expected_message)
        self.assertIn("Not valid JSON", body)
        shell.wait_eval(
            "Main.messageTray._banner !== null && Main.messageTray._banner.mapped",
            10,
            "the notification banner",
        )
        time.sleep(0.5)  # the banner slides in
        note_png = self.screenshot_area(
            os.path.join(SCREENSHOT_DIR, "shell-notification.png"), 340, 0, 600, 140
        )
        self.assertEqual(bjdbus.get(broken.name, "State"), "stopped")
        self.assertEqual(broken.terminate(), 0)
        shell.wait_eval(INDICATOR + ".describe().hosts.length", 10, "one host", expected=1)

        # The last host quits: the indicator goes.
        self.assertEqual(service.terminate(), 0, service.stderr_text())
        self.wait_state("none")
        self.assertFalse(self.describe()["visible"])
        self.assertFalse(shell.eval(INDICATOR + ".button.menu.isOpen"))

        # Disabled, it leaves the panel.
        bjdbus.call(
            bjshell.SHELL_NAME,
            "DisableExtension",
            bjshell.GLib.Variant("(s)", (bjshell.UUID,)),
            "(b)",
            interface="org.gnome.Shell.Extensions",
            path=bjshell.SHELL_PATH,
        )
        shell.wait_eval(
            "Main.panel.statusArea[%s] === undefined" % js(bjshell.UUID),
            10,
            "the indicator removed",
        )

        # Enabled again with a host already on the bus: found through ListNames.
        again = bjdbus.Service()
        shell.enable_extension()
        self.wait_state("stopped")
        self.assertEqual([h["busName"] for h in self.describe()["hosts"]], [again.name])
        self.assertTrue(self.describe()["visible"])
        self.assertEqual(again.terminate(), 0, again.stderr_text())
        self.wait_state("none")
        self.assertEqual(shell.proc.poll(), None, "gnome-shell still runs")
        self.assertNotIn("JS ERROR", shell.log_text(), "errors from the Shell's JavaScript")

        if os.environ.get("BJ_UPDATE_DOCS") == "1":
            docs = os.path.join(REPO, "docs", "screenshots")
            os.makedirs(docs, exist_ok=True)
            for png in (idle_png, busy_png, menu_png, note_png):
                shutil.copyfile(png, os.path.join(docs, os.path.basename(png)))
            sys.stderr.write("copied the screenshots into %s\n" % docs)


if __name__ == "__main__":
    unittest.main(verbosity=2)
