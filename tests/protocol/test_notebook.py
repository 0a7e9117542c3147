#!/usr/bin/python3
"""tests/notebooks/features.ipynb through nbclient, on bpy-jupyter and on ipykernel.

The notebook covers stream output (stdout, stderr), execute_result with one
and with several MIME types, display_data (IPython.display objects and the
display builtin), update_display_data (by handle and by id), clear_output
(with and without wait), a matplotlib figure and an error. Both kernels run
it from a fresh start; their outputs must be the same once these legitimate
differences are normalised away:

- error outputs: only ename and evalue are compared. The traceback text is
  each kernel's own (IPython colours it and shows different frames).
- image/png: compared by PNG dimensions, not bytes (the encoder's output is
  not part of the contract).
- consecutive stream outputs of the same name are joined: how a kernel
  batches a stream into messages is not visible to the user.
- cell ids, execution timing metadata and the notebook-level metadata are
  not compared (nbclient writes timings; kernel_info differs by design).

Everything else is compared exactly: output types and order, every MIME
type and its value, output metadata, execution counts and where
update_display_data / clear_output left the outputs.
"""

import base64
import copy
import json
import os
import struct
import tempfile
import unittest

import bjtest  # noqa: F401  (sets up the kernelspec of the kernel under test)
import bjkernelspec

import nbformat
from nbclient import NotebookClient

NOTEBOOK = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks", "features.ipynb"
)
REFERENCE_KERNEL = "bj-reference-ipykernel"


def run_notebook(kernel_name):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with tempfile.TemporaryDirectory(prefix="bj-notebook-") as cwd:
        client = NotebookClient(
            nb,
            kernel_name=kernel_name,
            timeout=int(60 * bjtest.TIME_SCALE),
            startup_timeout=int(bjtest.STARTUP_TIMEOUT),
            allow_errors=False,
            resources={"metadata": {"path": cwd}},
        )
        client.execute()
    return nb


def png_dimensions(data_b64):
    raw = base64.b64decode(data_b64)
    if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return ("not a PNG", raw[:16])
    return ("PNG", struct.unpack(">II", raw[16:24]))


def normalise_output(output):
    output = copy.deepcopy(dict(output))
    if output["output_type"] == "error":
        return {"output_type": "error", "ename": output["ename"], "evalue": output["evalue"]}
    data = output.get("data")
    if data and "image/png" in data:
        data["image/png"] = png_dimensions(data["image/png"])
    return output


def normalise_cell(cell):
    outputs = []
    for output in cell.get("outputs", []):
        output = normalise_output(output)
        last = outputs[-1] if outputs else None
        if (
            last
            and output["output_type"] == "stream"
            and last["output_type"] == "stream"
            and last["name"] == output["name"]
        ):
            last["text"] += output["text"]
        else:
            outputs.append(output)
    return {
        "source": cell["source"],
        "execution_count": cell.get("execution_count"),
        "outputs": outputs,
    }


def normalise(nb):
    return [normalise_cell(cell) for cell in nb.cells if cell.cell_type == "code"]


class TestNotebook(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        bjkernelspec.add_kernelspec(
            REFERENCE_KERNEL, bjkernelspec.IPYKERNEL_ARGV, "ipykernel (reference)"
        )
        cls.ours = normalise(run_notebook(bjkernelspec.setup_kernelspec()))
        cls.reference = normalise(run_notebook(REFERENCE_KERNEL))

    def test_same_outputs_as_ipykernel(self):
        self.assertEqual(len(self.ours), len(self.reference))
        for ours, reference in zip(self.ours, self.reference):
            with self.subTest(cell=ours["source"].splitlines()[0]):
                self.assertEqual(
                    ours,
                    reference,
                    "\nours:\n%s\nipykernel:\n%s"
                    % (json.dumps(ours, indent=1), json.dumps(reference, indent=1)),
                )

    def test_expected_outputs(self):
        # the comparison alone would pass if both kernels lost everything
        cells = {cell["source"].splitlines()[0]: cell["outputs"] for cell in self.ours}
        types = {first: [o["output_type"] for o in outputs] for first, outputs in cells.items()}
        self.assertEqual(
            cells['print("hello from stdout")'],
            [{"output_type": "stream", "name": "stdout", "text": "hello from stdout\n0\n1\n2\n"}],
        )
        self.assertEqual(types["6 * 7"], ["execute_result"])
        self.assertEqual(types["x = 1"], [])
        rich = cells["class Rich:"][0]["data"]
        self.assertEqual(
            sorted(rich),
            [
                "application/javascript",
                "application/json",
                "image/svg+xml",
                "text/html",
                "text/latex",
                "text/markdown",
                "text/plain",
            ],
        )
        self.assertEqual(
            types["from IPython.display import display, HTML, Markdown, Image, JSON, Latex"],
            ["display_data", "display_data", "display_data", "execute_result"],
        )
        updated = cells['handle = display(HTML("<i>version 1</i>"), display_id=True)']
        self.assertEqual(
            [o["data"].get("text/html") or o["data"].get("text/markdown") for o in updated],
            ["<i>version 2</i>", "fixed, version 2"],
        )
        self.assertEqual(
            cells["from IPython.display import update_display"],
            [{"output_type": "stream", "name": "stdout", "text": "updated\n"}],
        )
        self.assertEqual(
            cells["from IPython.display import clear_output"],
            [{"output_type": "stream", "name": "stdout", "text": "after clear\n"}],
        )
        self.assertEqual(
            cells['print("replaced on next output")'],
            [{"output_type": "stream", "name": "stdout", "text": "the replacement\n"}],
        )
        figure = cells["import matplotlib.pyplot as plt"]
        self.assertEqual([o["output_type"] for o in figure], ["display_data"])
        self.assertEqual(figure[0]["data"]["image/png"][0], "PNG")
        self.assertEqual(
            cells["def broken():"],
            [{"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero"}],
        )


if __name__ == "__main__":
    bjkernelspec.unittest_main()
