"""complete_request: what a frontend inserts must be right, for every path.

Names and attributes of live objects come from the namespace (fast path); what
needs analysis (imports, names not defined yet) from jedi.
"""
import bjtest
from bjtest import get_reply


class Completion(bjtest.KernelTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        execute = bjtest.execute(
            cls.kc, "import os\nitems = [1, 2]\n_private = 1\nclass Thing:\n    size = 3\n"
        )
        assert execute[0]["content"]["status"] == "ok", execute

    def complete(self, code, cursor_pos=None):
        msg_id = self.kc.complete(code, len(code) if cursor_pos is None else cursor_pos)
        reply = get_reply(self.kc.shell_channel, msg_id)["content"]
        self.assertEqual(reply["status"], "ok")
        return reply

    def assertInserts(self, code, match, expected_text):
        reply = self.complete(code)
        self.assertIn(match, reply["matches"])
        self.assertEqual(reply["cursor_end"], len(code))
        inserted = code[: reply["cursor_start"]] + match + code[reply["cursor_end"] :]
        self.assertEqual(inserted, expected_text)
        return reply

    def test_builtin_name(self):
        reply = self.assertInserts("pri", "print", "print")
        kinds = {t["text"]: t["type"] for t in reply["metadata"]["_jupyter_types_experimental"]}
        self.assertEqual(kinds["print"], "function")

    def test_user_names_and_keywords(self):
        self.assertInserts("x = ite", "items", "x = items")
        reply = self.assertInserts("whi", "while", "while")
        kinds = {t["text"]: t["type"] for t in reply["metadata"]["_jupyter_types_experimental"]}
        self.assertEqual(kinds["while"], "keyword")

    def test_attributes_of_live_objects(self):
        self.assertInserts("items.app", "append", "items.append")
        self.assertInserts("os.path.jo", "join", "os.path.join")
        reply = self.assertInserts("Thing.si", "size", "Thing.size")
        kinds = {t["text"]: t["type"] for t in reply["metadata"]["_jupyter_types_experimental"]}
        self.assertEqual(kinds["size"], "instance")

    def test_private_names_only_after_underscore(self):
        self.assertNotIn("_private", self.complete("")["matches"])
        self.assertNotIn("__class__", self.complete("items.")["matches"])
        self.assertIn("_private", self.complete("_pri")["matches"])
        self.assertIn("__class__", self.complete("items.__cl")["matches"])

    def test_cursor_in_the_middle(self):
        reply = self.complete("pri + 1", cursor_pos=3)
        self.assertIn("print", reply["matches"])
        self.assertEqual((reply["cursor_start"], reply["cursor_end"]), (0, 3))

    def test_module_names_in_imports(self):
        reply = self.complete("import o")
        self.assertIn("os", reply["matches"])
        self.assertEqual(reply["cursor_start"], len("import "))

    def test_names_not_defined_yet(self):
        # Not in the namespace: the analysis path must still find list methods.
        self.assertInserts("fresh = [1]; fresh.app", "append", "fresh = [1]; fresh.append")

    def test_nothing_to_complete(self):
        reply = self.complete("zzzz_no_such_name")
        self.assertEqual(reply["matches"], [])

    def test_unicode_cursor_in_code_points(self):
        code = "s = 'é'; ite"
        self.assertInserts(code, "items", "s = 'é'; items")


if __name__ == "__main__":
    bjtest.main()
