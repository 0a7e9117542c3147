#!/usr/bin/python3
"""jupyter_kernel_test against headless Blender as the kernel process.

The very test class of tests/conformance/test_jupyter_kernel_test.py (samples and
all), pointed at a "bpy-jupyter-blender" kernelspec that launches

    blender -b --factory-startup \
        --python <stage>/addons/bpy_jupyter/kernel_process.py -- -f {connection_file}

as JupyterLab, VS Code or nbclient would. Plus what only Blender has: bpy, C and D.
Every test must run; a skip is a failure.
"""
import json
import os
import shutil
import subprocess
import sys
import importlib.util

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import bjblender  # noqa: E402

KERNEL_NAME = bjblender.HEADLESS_KERNEL_NAME

# The kernelspec, written before bjkernelspec (imported by the conformance module)
# resolves it through JUPYTER_PATH: mode "installed" takes it from there as is.
_spec_root = bjblender.use_headless_kernelspec("bj-blender-kernelspec-")

_spec = importlib.util.spec_from_file_location(
    "bj_conformance", os.path.join(TESTS, "conformance", "test_jupyter_kernel_test.py")
)
conformance = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(conformance)
bjkernelspec = conformance.bjkernelspec


class HeadlessBlenderKernelTests(conformance.BpyJupyterKernelTests):
    kernel_name = KERNEL_NAME

    @classmethod
    def setUpClass(cls):
        spec = bjkernelspec.check_kernelspec()
        assert spec.display_name == "Blender", spec.display_name
        assert spec.interrupt_mode == "message", spec.interrupt_mode
        super().setUpClass()

    def test_blender_namespace(self):
        """bpy, C and D are predefined, in background mode."""
        self.flush_channels()
        reply, output_msgs = self.execute_helper(
            code="bpy.app.background, C is bpy.context, D is bpy.data, D.objects['Cube'].name"
        )
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        results = [m for m in output_msgs if m["msg_type"] == "execute_result"]
        self.assertEqual(len(results), 1, output_msgs)
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "(True, True, True, 'Cube')")

    def test_kernelspec_matches_install_blender(self):
        """The kernelspec tested here is the one `bpy-jupyter-kernel --install-blender`
        writes for this add-on, run from the build tree as the README has a newcomer do
        right after `meson compile`: no add-on installed, no BJ_ADDON_DIR."""
        binary = os.environ.get("BJ_KERNEL_BINARY")
        if not binary or not os.access(binary, os.X_OK):
            self.fail("BJ_KERNEL_BINARY must name the built bpy-jupyter-kernel")
        prefix = os.path.join(_spec_root, "install-blender")
        env = dict(os.environ)
        env.pop("BJ_ADDON_DIR", None)
        result = subprocess.run(
            [binary, "--install-blender", "--prefix", prefix],
            env=env,
            capture_output=True,
            text=True,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(
            os.path.join(prefix, "share", "jupyter", "kernels", KERNEL_NAME, "kernel.json")
        ) as f:
            installed = json.load(f)
        with open(os.path.join(_spec_root, "kernels", KERNEL_NAME, "kernel.json")) as f:
            tested = json.load(f)
        self.assertEqual(
            os.path.realpath(installed["argv"][0]),
            os.path.realpath(shutil.which(tested["argv"][0])),
        )
        self.assertEqual(installed["argv"][1:], tested["argv"][1:])
        # ...and so the build tree's staged add-on, where this suite's Blender runs it.
        self.assertEqual(
            os.path.realpath(installed["argv"][4]),
            os.path.realpath(
                os.path.join(
                    bjblender.addon_scripts(), "addons", "bpy_jupyter", "kernel_process.py"
                )
            ),
        )
        for key in ("display_name", "language", "interrupt_mode"):
            self.assertEqual(installed[key], tested[key], key)

        # BJ_ADDON_DIR still names another copy of the add-on, first.
        elsewhere = os.path.join(_spec_root, "elsewhere")
        os.makedirs(elsewhere)
        shutil.copy(
            os.path.join(bjblender.addon_scripts(), "addons", "bpy_jupyter", "kernel_process.py"),
            elsewhere,
        )
        subprocess.run(
            [binary, "--install-blender", "--prefix", prefix],
            check=True,
            env=dict(env, BJ_ADDON_DIR=elsewhere),
            stdout=subprocess.DEVNULL,
        )
        with open(
            os.path.join(prefix, "share", "jupyter", "kernels", KERNEL_NAME, "kernel.json")
        ) as f:
            self.assertEqual(json.load(f)["argv"][4], os.path.join(elsewhere, "kernel_process.py"))

    def test_interrupt(self):
        """The notebook's Interrupt button: the manager sends interrupt_request."""
        self.flush_channels()
        bjblender.check_interrupt(self, self.kc, self.km.interrupt_kernel)
        reply, outputs = bjblender.execute(self.kc, "6 * 7")
        self.assertEqual(bjblender.result_text(outputs), "42")


def _cleanup():
    shutil.rmtree(_spec_root, ignore_errors=True)


if __name__ == "__main__":
    import atexit

    atexit.register(_cleanup)
    bjkernelspec.unittest_main(allowed_skips=conformance.ALLOWED_SKIPS)
