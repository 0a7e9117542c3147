"""The round-trip latency chart: one panel per section, the empirical
distribution (ECDF, log time axis) of the execute `1+1` round trips of ours and
the reference, raw pyzmq client solid, jupyter_client dashed.

bench/run draws it; to draw it again from a run's JSON:
    /usr/bin/python3 bench/chart.py build/bench/bench-DATE-TIME.json OUT.png
"""

import statistics

PANELS = {
    "standalone": ("Standalone process", {"ours": "bpy-jupyter-kernel", "ipykernel": "ipykernel"}),
    "blender": (
        "GUI Blender 3.4.1 (Xvfb, llvmpipe)",
        {"ours": "add-on (ours)", "seedq": "seed: ipykernel + 1 ms timer"},
    ),
    "headless": (
        "blender -b as the kernel process",
        {"ours": "kernel_process.py (ours)", "ipykernel": "ipykernel in blender -b"},
    ),
}
COLORS = {"ours": "#1f77b4"}
REFERENCE_COLOR = "#d62728"


def draw(sections, path, title):
    """sections: the section results (with "latency": {client: {kernel: [s, …]}})."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [s for s in sections if s["name"] in PANELS and s.get("latency")]
    if not shown:
        return None
    fig, axes = plt.subplots(1, len(shown), figsize=(5.2 * len(shown), 4.2), squeeze=False)
    for ax, sec in zip(axes[0], shown):
        panel_title, labels = PANELS[sec["name"]]
        for client, style in (("raw pyzmq", "-"), ("jupyter_client", "--")):
            for kernel, samples in sec["latency"].get(client, {}).items():
                if kernel not in labels or not samples:
                    continue
                xs = sorted(x * 1e3 for x in samples)
                ys = [(k + 1) / len(xs) for k in range(len(xs))]
                ax.step(
                    xs,
                    ys,
                    where="post",
                    linestyle=style,
                    color=COLORS.get(kernel, REFERENCE_COLOR),
                    label="%s, %s (median %.1f ms)"
                    % (labels[kernel], client, statistics.median(xs)),
                )
        ax.set_xscale("log")
        ax.set_ylim(0, 1.0)
        ax.set_xlabel("execute `1+1` round trip (ms, log scale)")
        ax.set_ylabel("fraction of round trips ≤ x")
        if sec["name"] == "blender":
            panel_title += (
                "\nblocks of %d requests; `1+1` changes nothing: no undo step,\n"
                "no redraw forced by the add-on" % (sec.get("params") or {}).get("rt_block", 10)
            )
        ax.set_title(panel_title, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv):
    import json

    with open(argv[1]) as f:
        run = json.load(f)
    sections = []
    for name, sec in run["sections"].items():
        raw = sec.get("raw", {})
        if "execute_raw" in raw:
            sections.append(
                {
                    "name": name,
                    "params": sec.get("params"),
                    "latency": {
                        "raw pyzmq": raw["execute_raw"],
                        "jupyter_client": raw["execute_jupyter_client"],
                    },
                }
            )
    title = "execute `1+1` round trip, %s, %s run (bench/run)" % (run["date"][:10], run["mode"])
    print(draw(sections, argv[2], title))


if __name__ == "__main__":
    import sys

    main(sys.argv)
