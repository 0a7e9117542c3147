#!/usr/bin/python3
"""Screenshots of the 3D View sidebar's "Jupyter" tab, kernel stopped and running.

Saved into BJ_SCREENSHOT_DIR (meson: <build>/screenshots; else a temporary folder),
and with BJ_UPDATE_DOCS=1 copied to docs/screenshots/panel-stopped.png and
panel-running.png for the README.

The pictures come from the X server (Pillow's ImageGrab on Xvfb's display), as a
person would see the window: Blender's own `bpy.ops.screen.screenshot` reads the GL
front buffer back, which under Xvfb with llvmpipe gives a black image from Blender 4.x
on (4.3, 5.2), while the window itself shows fine.

Blender 3.x switches a sidebar tab only on a click, so this Blender runs with
--enable-event-simulate (fine for pictures; it removes the event loop's idle sleep,
so never use it to measure latency). Which tab shows is not exposed to Python: a
probe wrapped around a function the panel's draw() calls tells when the Jupyter
panel is drawn. (Replacing the Panel class's own draw() after registration crashes
Blender 3.4.)
"""
import os
import shutil
import struct
import sys
import tempfile
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from bjblender import TIMEOUT, BlenderGUI, execute, fail, result_text  # noqa: E402

SETUP = """
import time
import bpy_jupyter.panels as _panels

win = bpy.context.window_manager.windows[0]
area = next(a for a in win.screen.areas if a.type == 'VIEW_3D')
area.spaces.active.show_region_ui = True
ui = next(r for r in area.regions if r.type == 'UI')
draws = {"main": [], "connection": []}
if not hasattr(_panels, "_bj_probed"):
    _panels._bj_probed = True
    _online = _panels.online_access_allowed
    _connection = _panels.draw_connection

    def _probe_main():
        draws["main"].append(time.monotonic())
        return _online()

    def _probe_connection(layout, context):
        draws["connection"].append(time.monotonic())
        return _connection(layout, context)

    _panels.online_access_allowed = _probe_main
    _panels.draw_connection = _probe_connection


def redraw():
    for a in win.screen.areas:
        a.tag_redraw()


def simulate(kind, x, y, **modifiers):
    win.event_simulate(type='MOUSEMOVE', value='NOTHING', x=x, y=y)
    if kind == 'click':
        win.event_simulate(type='LEFTMOUSE', value='PRESS', x=x, y=y, **modifiers)
        win.event_simulate(type='LEFTMOUSE', value='RELEASE', x=x, y=y, **modifiers)


def drawn_since(t, panel="main"):
    return any(d > t for d in draws[panel])


import os
result = {"window": [win.width, win.height], "ui": [ui.x, ui.y, ui.width, ui.height],
          "origin": [win.x, win.y],
          "display": os.environ.get("DISPLAY"), "xauthority": os.environ.get("XAUTHORITY")}
"""

# A click down the tab strip, at the sidebar's right edge, STEP pixels at a time.
CLICK_TAB = """
x, y = ui.x + ui.width - 12, ui.y + ui.height - 10 - {step}
simulate('click', x, y)
result = time.monotonic()
"""


def read_png(path):
    """(width, height, channels, rows) of an 8-bit RGB/RGBA non-interlaced PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        fail(f"{path}: unexpected PNG format {header}")
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upleft = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else upleft)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def region_pixels(png, region, window):
    """Pixels (tuples) of a region given in Blender's window coordinates (origin
    bottom left), from a screenshot of that window."""
    width, height, channels, rows = png
    x, y, w, h = region
    scale_x, scale_y = width / window[0], height / window[1]
    left, right = int(x * scale_x), int((x + w) * scale_x)
    top, bottom = int(height - (y + h) * scale_y), int(height - y * scale_y)
    return [
        tuple(rows[row][col * channels : col * channels + 3])
        for row in range(max(top, 0), min(bottom, height))
        for col in range(max(left, 0), min(right, width))
    ]


class PanelScreenshots(unittest.TestCase):
    def setUp(self):
        out = os.environ.get("BJ_SCREENSHOT_DIR")
        if out:
            os.makedirs(out, exist_ok=True)
            self.out = out
        else:
            self.out = tempfile.mkdtemp(prefix="bj-screenshots-")
            self.addCleanup(shutil.rmtree, self.out, ignore_errors=True)
        self.blender = BlenderGUI(
            start_kernel=False, extra_args=["--enable-event-simulate"], name="bj-screenshot"
        )
        self.addCleanup(self.close_blender)

    def close_blender(self):
        problems = self.blender.close()
        if problems:
            raise AssertionError("; ".join(problems))

    def show_jupyter_tab(self):
        """Click down the sidebar's tab strip until the Jupyter panel draws."""
        for step in range(0, 400, 10):
            clicked = self.blender.command(CLICK_TAB.format(step=step))
            deadline = time.monotonic() + 0.4
            while time.monotonic() < deadline:
                if self.blender.command(f"result = drawn_since({clicked!r})"):
                    return
                time.sleep(0.05)
        fail("no click on the sidebar's tabs showed the Jupyter panel\n" + self.blender.log())

    def screenshot(self, name):
        """Redraw, wait for the Jupyter panel to be drawn, then save the window."""
        path = os.path.join(self.out, name)
        if os.path.exists(path):
            os.unlink(path)
        # The mouse away from the sidebar: no hover highlight in the picture.
        since = self.blender.command(
            "simulate('move', ui.x // 2, ui.y + ui.height // 2)\n"
            "redraw()\nresult = time.monotonic()"
        )
        deadline = time.monotonic() + TIMEOUT
        while not self.blender.command(f"result = drawn_since({since!r})"):
            if time.monotonic() > deadline:
                fail("the Jupyter panel was not redrawn\n" + self.blender.log())
            time.sleep(0.05)
        self.grab_window(path)
        self.assertTrue(os.path.isfile(path), f"no screenshot at {path}")
        return path

    def grab_window(self, path):
        """Save Blender's window as the X server shows it, once the frame is steady:
        the frame that draw belongs to reaches the screen a little later."""
        from PIL import ImageGrab

        os.environ["XAUTHORITY"] = self.geometry["xauthority"] or ""
        x, y = self.geometry["origin"]
        width, height = self.geometry["window"]
        previous = None
        deadline = time.monotonic() + TIMEOUT
        while True:
            time.sleep(0.3)
            image = ImageGrab.grab(
                bbox=(x, y, x + width, y + height), xdisplay=self.geometry["display"]
            )
            data = image.tobytes()
            if data == previous and len(set(image.getdata())) > 1:
                break
            if time.monotonic() > deadline:
                fail(
                    "the window did not show a steady, non-blank picture within "
                    f"{TIMEOUT:.0f}s\n" + self.blender.log()
                )
            previous = data
        self.assertEqual(image.size, (width, height), "the grab is not the window's size")
        image.convert("RGB").save(path)

    def test_panel_stopped_and_running(self):
        geometry = self.geometry = self.blender.command(SETUP, timeout=60)
        self.assertTrue(geometry["display"], "Blender runs without DISPLAY")
        self.show_jupyter_tab()
        self.assertEqual(
            self.blender.command("import bpy_jupyter\n" "result = bpy_jupyter.kernel.state()"),
            "stopped",
        )
        stopped = self.screenshot("panel-stopped.png")

        self.blender.command("bpy.ops.bpy_jupyter.start_kernel()")
        path, _ = self.blender.wait_connection_file()
        kc = self.blender.client(path)
        reply, outputs = execute(kc, "D.objects['Cube'].name")
        self.assertEqual(result_text(outputs), "'Cube'")
        self.blender.drop_client(kc)
        # Let the "kernel started" report leave the status bar before the picture.
        time.sleep(1.0)
        running = self.screenshot("panel-running.png")

        pictures = {}
        for path in (stopped, running):
            size = os.path.getsize(path)
            self.assertGreater(size, 20_000, f"{path}: {size} bytes is too small for a screenshot")
            png = read_png(path)
            self.assertGreaterEqual(png[0], 640, path)
            self.assertGreaterEqual(png[1], 400, path)
            pixels = region_pixels(png, geometry["ui"], geometry["window"])
            self.assertGreater(len(pixels), 10_000, f"{path}: the sidebar region is missing")
            colours = len(set(pixels))
            self.assertGreater(colours, 30, f"{path}: the sidebar is blank ({colours} colours)")
            pictures[path] = pixels
        different = sum(a != b for a, b in zip(pictures[stopped], pictures[running]))
        self.assertGreater(
            different,
            200,
            "the sidebar looks the same with the kernel stopped "
            f"and running ({different} pixels differ)",
        )

        if os.environ.get("BJ_UPDATE_DOCS") == "1":
            docs = os.path.join(REPO, "docs", "screenshots")
            os.makedirs(docs, exist_ok=True)
            for path in (stopped, running):
                shutil.copyfile(path, os.path.join(docs, os.path.basename(path)))
            sys.stderr.write(f"copied the screenshots into {docs}\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
