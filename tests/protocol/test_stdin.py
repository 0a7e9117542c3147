"""input() and getpass through the stdin channel, and interrupting a cell that waits."""
import time

import bjtest
from bjtest import control_request, get_reply


class Stdin(bjtest.KernelTestCase):
    def run_with_input(self, code, answer, password=False):
        msg_id = self.kc.execute(code, allow_stdin=True)
        request = bjtest.get_msg(self.kc.stdin_channel, timeout=bjtest.TIMEOUT)
        self.assertEqual(request["msg_type"], "input_request")
        self.assertEqual(request["parent_header"]["msg_id"], msg_id)
        self.assertEqual(request["content"]["password"], password)
        self.kc.input(answer)
        reply = get_reply(self.kc.shell_channel, msg_id)
        msgs = bjtest.collect_iopub(self.kc, msg_id)
        return request, reply, msgs

    def test_input(self):
        request, reply, msgs = self.run_with_input("name = input('Name? ')\nname.upper()", "ada")
        self.assertEqual(request["content"]["prompt"], "Name? ")
        self.assertEqual(reply["content"]["status"], "ok")
        results = bjtest.of_type(msgs, "execute_result")
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "'ADA'")

    def test_getpass_hides_input(self):
        request, reply, msgs = self.run_with_input(
            "import getpass\nlen(getpass.getpass())", "secret", password=True
        )
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(
            bjtest.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "6"
        )

    def test_input_not_allowed_is_a_clear_error(self):
        reply, msgs = bjtest.execute(self.kc, "input('x')", allow_stdin=False)
        reply = reply["content"]
        self.assertEqual(reply["status"], "error")
        self.assertEqual(reply["ename"], "StdinNotImplementedError")
        self.assertIn("allow_stdin", reply["evalue"])

    def test_interrupt_while_waiting_for_input(self):
        msg_id = self.kc.execute("input('never answered')", allow_stdin=True)
        request = bjtest.get_msg(self.kc.stdin_channel, timeout=bjtest.TIMEOUT)
        self.assertEqual(request["msg_type"], "input_request")
        started = time.monotonic()
        control_request(self.kc, "interrupt_request")
        reply = get_reply(self.kc.shell_channel, msg_id)
        self.assertLess(time.monotonic() - started, 1.0 * bjtest.TIME_SCALE)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
        bjtest.collect_iopub(self.kc, msg_id)
        # The next cell runs normally, and a late answer to the old prompt is ignored.
        self.kc.input("too late")
        reply, msgs = bjtest.execute(self.kc, "6 * 7")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(
            bjtest.of_type(msgs, "execute_result")[0]["content"]["data"]["text/plain"], "42"
        )


if __name__ == "__main__":
    bjtest.main()
