"""bj_runtime.display: MIME bundles built like IPython's formatter."""
import contextlib
import io
import unittest

import runtimetest  # noqa: F401
from bj_runtime.display import format_bundle


class Rich:
    def _repr_html_(self):
        return "<b>rich</b>"

    def _repr_png_(self):
        return b"\x89PNG"

    def _repr_json_(self):
        return '{"a": 1}'

    def __repr__(self):
        return "Rich()"


class Bundle:
    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": "<i>bundle</i>", "application/x-thing": "x"}, {
            "text/html": {"isolated": True}
        }

    def _repr_html_(self):  # the bundle wins for text/html
        return "<b>not this</b>"

    def _repr_markdown_(self):
        return "**filled in**"


class Broken:
    def _repr_html_(self):
        raise ValueError("boom")


class Displays:
    calls = 0

    def _ipython_display_(self):
        Displays.calls += 1


class FormatBundle(unittest.TestCase):
    def test_plain_object_is_its_repr(self):
        self.assertEqual(format_bundle(42), ({"text/plain": "42"}, {}))

    def test_repr_methods_normalised(self):
        data, metadata = format_bundle(Rich())
        self.assertEqual(data["text/html"], "<b>rich</b>")
        self.assertEqual(data["image/png"], "iVBORw==")  # bytes of a binary type: base64
        self.assertEqual(data["application/json"], {"a": 1})  # JSON text: parsed
        self.assertEqual(data["text/plain"], "Rich()")
        self.assertEqual(metadata, {})

    def test_mimebundle_first_then_repr_methods(self):
        data, metadata = format_bundle(Bundle())
        self.assertEqual(data["text/html"], "<i>bundle</i>")
        self.assertEqual(data["application/x-thing"], "x")
        self.assertEqual(data["text/markdown"], "**filled in**")
        self.assertEqual(metadata, {"text/html": {"isolated": True}})

    def test_include_and_exclude(self):
        data, _ = format_bundle(Rich(), include={"text/html"})
        self.assertEqual(list(data), ["text/html"])
        data, _ = format_bundle(Rich(), exclude={"text/html", "image/png"})
        self.assertNotIn("text/html", data)
        self.assertNotIn("image/png", data)
        self.assertIn("text/plain", data)

    def test_broken_repr_costs_one_representation(self):
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            data, _ = format_bundle(Broken())
        self.assertNotIn("text/html", data)
        self.assertIn("text/plain", data)
        self.assertIn("Broken._repr_html_", stderr.getvalue())
        self.assertIn("ValueError: boom", stderr.getvalue())

    def test_ipython_display_objects_publish_themselves(self):
        before = Displays.calls
        self.assertEqual(format_bundle(Displays()), ({}, {}))
        self.assertEqual(Displays.calls, before + 1)

    def test_classes_are_not_rendered_by_their_methods(self):
        data, _ = format_bundle(Rich)
        self.assertEqual(list(data), ["text/plain"])

    def test_containers_pretty_printed(self):
        data, _ = format_bundle({"key": list(range(40))})
        self.assertIn("\n", data["text/plain"])  # pprint wraps what repr keeps on one line
        self.assertEqual(eval(data["text/plain"]), {"key": list(range(40))})


if __name__ == "__main__":
    unittest.main()
