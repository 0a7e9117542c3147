#!/usr/bin/python3
"""Issue 15 in GUI Blender (under Xvfb, the add-on as a user enables it): a cell
blocked in each of the seven calls of tests/protocol/bjblocking.py ends within 1 s
on interrupt_request and on D-Bus Interrupt, the kernel carrying on; D-Bus Stop
and shutdown_request end it the same way and stop the kernel. Blender's own
SIGINT handling is left alone: Python's handler and the C-level disposition are
what they were before the kernel started, and so is SIGURG's (the signal
interrupt uses in a host that owns SIGINT).

Runs itself under dbus-run-session: a private bus, nothing of the desktop's.
"""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "protocol"))
import bjblender  # noqa: E402
import bjblocking  # noqa: E402

bjblender.run_on_private_bus()

NAME = "org.bpyjupyter.Kernel"


def kernel_call(method, *args, timeout=30, check=True):
    result = subprocess.run(
        [
            "gdbus",
            "call",
            "--session",
            "--dest",
            NAME,
            "--object-path",
            "/org/bpyjupyter/Kernel",
            "--method",
            method,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError("%s failed: %s" % (method, result.stderr.strip()))
    return result


def state():
    result = kernel_call(
        "org.freedesktop.DBus.Properties.Get", "org.bpyjupyter.Kernel", "State", check=False
    )
    return result.stdout.strip().strip("(<>,)'") if result.returncode == 0 else None


# Python's view and the C-level disposition (glibc's struct sigaction) of SIGINT and
# SIGURG, read in Blender from the command timer.
SIGNAL_STATE = r'''
import ctypes, signal
class _SigAction(ctypes.Structure):
    _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ulong * 16),
                ("flags", ctypes.c_int), ("restorer", ctypes.c_void_p)]
_libc = ctypes.CDLL(None, use_errno=True)
result = {}
for _name in ("SIGINT", "SIGURG"):
    _action = _SigAction()
    if _libc.sigaction(getattr(signal, _name), None, ctypes.byref(_action)) != 0:
        raise OSError(ctypes.get_errno(), "sigaction")
    # glibc's sigaction() always adds SA_RESTORER (its return trampoline) when it
    # sets an action, so a signal never set since exec reads without it: not a change.
    result[_name] = [repr(signal.getsignal(getattr(signal, _name))),
                     _action.handler or 0, _action.flags & ~0x04000000]
'''


def interrupt_via_control(kc):
    def send():
        msg = kc.session.msg("interrupt_request", {})
        kc.control_channel.send(msg)

    return send


def interrupt_via_dbus():
    kernel_call("org.bpyjupyter.Kernel.Interrupt")


class GuiBlenderBlocking(bjblender.BlenderTestCase):
    blender_options = {"start_kernel": False, "name": "bj-blocking"}

    @classmethod
    def prepare(cls):
        bjblender.wait_until(
            lambda: state() == "stopped",
            bjblender.STARTUP_TIMEOUT,
            "Blender's kernel on the session bus",
        )
        # The first command waits for Blender's window to run timers at all.
        cls.before = cls.blender.command(SIGNAL_STATE, timeout=bjblender.STARTUP_TIMEOUT)

    def start(self):
        path = kernel_call("org.bpyjupyter.Kernel.Start").stdout.strip().strip("(),'")
        self.assertTrue(os.path.isfile(path), path)
        return path, self.blender.client(path)

    def stopped(self):
        return state() == "stopped" and not bjblender.connection_files(self.blender.runtime_dir)

    def test_interrupt_each_blocking_call(self):
        path, kc = self.start()
        try:
            for how, send in (
                ("interrupt_request", interrupt_via_control(kc)),
                ("D-Bus Interrupt", interrupt_via_dbus),
            ):
                for blocking in bjblocking.CELLS:
                    with self.subTest(how=how, call=blocking.name):
                        latency = bjblocking.check_interrupt(self, kc, blocking, send)
                        sys.stderr.write(
                            "[info] GUI Blender: %s of %s ended it in %.0f ms\n"
                            % (how, blocking.name, latency * 1000)
                        )
            # Between cells, and after the kernel stopped, Blender's signals are its own.
            self.assertEqual(self.blender.command(SIGNAL_STATE), self.before)
        finally:
            self.blender.drop_client(kc)
            kernel_call("org.bpyjupyter.Kernel.Stop", check=False)
        bjblender.wait_until(self.stopped, bjblender.TIMEOUT, "the kernel to stop")
        self.assertEqual(self.blender.command(SIGNAL_STATE), self.before)
        self.blender.check_alive()

    def test_stop_each_blocking_call(self):
        for how in ("D-Bus Stop", "shutdown_request"):
            for blocking in bjblocking.CELLS:
                with self.subTest(how=how, call=blocking.name):
                    path, kc = self.start()
                    try:
                        if how == "D-Bus Stop":
                            stop = lambda: kernel_call("org.bpyjupyter.Kernel.Stop")  # noqa: E731
                        else:
                            stop = lambda: kc.shutdown()  # noqa: E731
                        latency = bjblocking.check_stop(self, kc, blocking, stop, self.stopped)
                        sys.stderr.write(
                            "[info] GUI Blender: %s of %s: stopped in %.0f ms\n"
                            % (how, blocking.name, latency * 1000)
                        )
                    finally:
                        self.blender.drop_client(kc)
                        if state() != "stopped":
                            kernel_call("org.bpyjupyter.Kernel.Stop", check=False)
                    self.assertFalse(os.path.exists(path))
        self.assertEqual(self.blender.command(SIGNAL_STATE), self.before)
        self.blender.check_alive()


if __name__ == "__main__":
    unittest.main(verbosity=2)
