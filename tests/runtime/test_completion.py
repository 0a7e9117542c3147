"""bj_runtime.completion and bj_runtime.completeness: cursor tokens, live-name
matches and is_complete, on plain strings and namespaces."""
import unittest

import runtimetest  # noqa: F401
from bj_runtime.completeness import _completeness, _help_query
from bj_runtime.completion import (
    _clamp_cursor,
    _complete_live_name,
    _live_name_at,
    _token_at_cursor,
)


class Tokens(unittest.TestCase):
    def test_name_under_cursor(self):
        self.assertEqual(_token_at_cursor("os.path.join", 5), "os.path")
        self.assertEqual(_token_at_cursor("os.path.join", 12), "os.path.join")

    def test_callee_wins_inside_parentheses(self):
        code = "print(len(x), y"
        self.assertEqual(_token_at_cursor(code, len(code)), "print")
        self.assertEqual(_token_at_cursor("print(len(x", 11), "len")

    def test_assignment_target_is_not_inspected(self):
        self.assertEqual(_token_at_cursor("a = ", 4), "")

    def test_clamp(self):
        self.assertEqual(_clamp_cursor("abc", None), 3)
        self.assertEqual(_clamp_cursor("abc", 99), 3)
        self.assertEqual(_clamp_cursor("abc", -1), 0)


class LiveNames(unittest.TestCase):
    namespace = {"alpha": 1, "alpine": str, "_private": 0}

    def complete(self, code):
        found = _live_name_at(code, len(code), self.namespace)
        if found is None:
            return None
        return _complete_live_name(*found, self.namespace)

    def test_names_from_namespace_and_builtins(self):
        matches, described = self.complete("al")
        self.assertEqual(matches, ["all", "alpha", "alpine"])
        kinds = {d["text"]: d["type"] for d in described}
        self.assertEqual(kinds, {"all": "function", "alpha": "instance", "alpine": "class"})
        self.assertTrue(all(d["start"] == 0 and d["end"] == 2 for d in described))

    def test_private_names_only_after_underscore(self):
        self.assertNotIn("_private", self.complete("alpha + a")[0])
        self.assertEqual(self.complete("_p")[0], ["_private"])

    def test_attributes_of_a_dotted_path(self):
        matches, described = self.complete("x = alpine.upp")
        self.assertEqual(matches, ["upper"])
        self.assertEqual(described[0]["start"], len("x = alpine."))

    def test_left_to_jedi(self):
        for code in ("import o", "f().x", "'alp", "a[0].b", "# al"):
            self.assertIsNone(_live_name_at(code, len(code), self.namespace), code)


class Completeness(unittest.TestCase):
    def test_statuses(self):
        self.assertEqual(_completeness("x = 1"), {"status": "complete"})
        self.assertEqual(_completeness(""), {"status": "complete"})
        self.assertEqual(_completeness("x = (1,"), {"status": "incomplete", "indent": ""})
        self.assertEqual(_completeness("for i in x:"), {"status": "incomplete", "indent": "    "})
        self.assertEqual(_completeness("1 +* 2"), {"status": "invalid"})

    def test_open_block_until_blank_line(self):
        code = "if x:\n    y = 1"
        self.assertEqual(_completeness(code), {"status": "incomplete", "indent": "    "})
        self.assertEqual(_completeness(code + "\n"), {"status": "complete"})

    def test_future_flags_are_honoured(self):
        import __future__

        code = "def f(x: undefined_name) -> 'x':\n    pass\n"
        self.assertEqual(
            _completeness(code, __future__.annotations.compiler_flag)["status"], "complete"
        )

    def test_help_queries(self):
        self.assertEqual(_help_query("os.path?"), ("os.path", 0))
        self.assertEqual(_help_query("??len"), ("len", 1))
        self.assertIsNone(_help_query("?x?"))
        self.assertEqual(_completeness("len?"), {"status": "complete"})


if __name__ == "__main__":
    unittest.main()
