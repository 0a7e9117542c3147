#!/usr/bin/python3
"""jupyter_kernel_test conformance suite for the "bpy-jupyter-python" kernelspec.

Environment: BJ_KERNEL_ARGV (see ../bjkernelspec.py), optionally
BJ_KERNELSPEC_MODE=installed, and BJ_REFERENCE=ipykernel when validating the
suite against ipykernel (which has no `display` / `clear_output` builtins).
Every test must run: a skip counts as a failure.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bjkernelspec  # noqa: E402  (sets JUPYTER_PATH before jupyter_client)

import jupyter_kernel_test  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402

REFERENCE = bjkernelspec.is_reference()

if REFERENCE:
    DISPLAY = "from IPython.display import display; "
    CLEAR_OUTPUT = "from IPython.display import clear_output; clear_output()"
    # IPython answers a "range" request for the current session with session
    # number 0 instead of the number "tail" reported, which jupyter_kernel_test
    # rejects; upstream's own test_ipykernel.py leaves "range" out for this reason.
    HISTORY_OPS = ("tail", "search")
    ALLOWED_SKIPS = [("test_history", "hist_access_type='range'")]
else:
    DISPLAY = ""  # the kernel provides a `display` builtin like IPython's
    CLEAR_OUTPUT = "clear_output()"
    HISTORY_OPS = ("tail", "range", "search")
    ALLOWED_SKIPS = []  # nothing may be skipped for our kernel


class OwnKernelLifecycle:
    """Starts the kernel as jupyter_kernel_test does, with the connection file in our
    private temp dir, and requires a clean exit: mixed in before its test classes."""

    connect_in_setup = True  # False: the test starts the channels itself

    @classmethod
    def setUpClass(cls):
        # as jupyter_kernel_test's own setUpClass (start_new_kernel), but with
        # the connection file in our private temp dir
        bjkernelspec.check_kernelspec()
        cls.km = KernelManager(
            kernel_name=cls.kernel_name, connection_file=bjkernelspec.connection_file_path()
        )
        cls.km.start_kernel()
        cls._popen = cls.km.provisioner.process
        bjkernelspec.register_process(cls._popen)
        cls.kc = cls.km.client()
        if not cls.connect_in_setup:
            return
        cls.kc.start_channels()
        try:
            cls.kc.wait_for_ready(timeout=60)
        except RuntimeError:
            cls.kc.stop_channels()
            cls.km.shutdown_kernel(now=True)
            raise

    @classmethod
    def tearDownClass(cls):
        # jupyter_kernel_test's teardown (km.shutdown_kernel) plus: the kernel
        # must have exited by itself with 0, before the manager escalates to signals
        popen = cls._popen
        t0 = time.monotonic()
        super().tearDownClass()
        dt = time.monotonic() - t0
        rc = popen.poll()
        if rc != 0:
            raise AssertionError("kernel exit code after shutdown: %r" % (rc,))
        if dt >= cls.km.shutdown_wait_time / 2:
            raise AssertionError("kernel took %.1fs to shut down (signalled?)" % dt)


class BpyJupyterKernelTests(OwnKernelLifecycle, jupyter_kernel_test.KernelTests):
    kernel_name = bjkernelspec.KERNEL_NAME

    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"
    code_generate_error = "raise"

    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(4)]", "result": "[0, 1, 4, 9]"},
        {"code": "'a' * 3", "result": "'aaa'"},
        # A rich result: the bundle carries text/html and text/latex besides text/plain.
        {
            "code": "class Rich:\n"
            "    def __repr__(self): return 'Rich()'\n"
            "    def _repr_html_(self): return '<b>rich</b>'\n"
            "    def _repr_latex_(self): return r'$\\mathbf{rich}$'\n"
            "Rich()",
            "result": "Rich()",
        },
    ]

    code_display_data = [
        {"code": DISPLAY + "display({'text/plain': 'hi'}, raw=True)", "mime": "text/plain"},
        {
            "code": DISPLAY + "display({'text/html': '<b>hi</b>', 'text/plain': 'hi'}, raw=True)",
            "mime": "text/html",
        },
    ]

    completion_samples = [{"text": "zi", "matches": {"zip"}}]

    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2"]
    invalid_code_samples = ["import = 7q"]

    code_page_something = "zip?"

    supported_history_operations = HISTORY_OPS
    code_history_pattern = "1?2*"  # matches "1+2+3" above

    code_inspect_sample = "zip"

    code_clear_output = CLEAR_OUTPUT


# jupyter_kernel_test 0.7 (Debian 13 and sid) checks protocol 5.5's iopub_welcome
# (JEP 65); 0.4 (bookworm) predates it, and there the class does not exist.
if hasattr(jupyter_kernel_test, "IopubWelcomeTests"):

    class BpyJupyterIopubWelcome(OwnKernelLifecycle, jupyter_kernel_test.IopubWelcomeTests):
        kernel_name = bjkernelspec.KERNEL_NAME
        connect_in_setup = False  # the welcome is the first thing the test reads
        if REFERENCE:
            import ipykernel

            # ipykernel's iopub is XPUB from 7.0 on.
            support_iopub_welcome = int(ipykernel.__version__.split(".")[0]) >= 7
            if not support_iopub_welcome:
                ALLOWED_SKIPS.append(("test_recv_iopub_welcome_msg",))
        else:
            support_iopub_welcome = True


if __name__ == "__main__":
    bjkernelspec.unittest_main(allowed_skips=ALLOWED_SKIPS)
