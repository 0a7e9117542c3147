"""The frontend's side of the Jupyter widget protocol, in the version the
ipywidgets installed here speaks (Debian: 6 on bookworm, 8 on trixie and sid),
as a real frontend matches the kernel's library. Tests hold the same
conversation with ipykernel and compare; nothing here reads one version's
messages from a kernel.
"""

# Cell code that binds `instances`, ipywidgets' live widgets by comm id: a module
# dict in 8 (where Widget.widgets warns), Widget.widgets before.
INSTANCES = (
    "from ipywidgets.widgets import widget as _widget_module\n"
    "instances = getattr(_widget_module, '_instances', None)\n"
    "if instances is None:\n"
    "    instances = _widget_module.Widget.widgets\n"
)


def frontend_protocol():
    """The widget protocol the installed ipywidgets speaks: its version string,
    or None for the first protocol (ipywidgets 6: frontends name a class)."""
    import ipywidgets._version

    return getattr(ipywidgets._version, "__protocol_version__", None)


def frontend_checks_version():
    import ipywidgets

    return int(ipywidgets.__version__.split(".")[0]) < 8


def frontend_made_text():
    """comm_open content and metadata with which a frontend creates a Text widget."""
    protocol = frontend_protocol()
    if protocol is None:
        return {"widget_class": "Jupyter.Text"}, {}
    import ipywidgets

    state = {
        key: value
        for key, value in ipywidgets.Text().get_state().items()
        if key.startswith(("_model_", "_view_"))
    }
    return {"state": state, "buffer_paths": []}, {"version": protocol}


def frontend_sets(state):
    """comm_msg data with which a frontend sets state."""
    if frontend_protocol() is None:
        return {"method": "backbone", "sync_data": state}
    return {"method": "update", "state": state, "buffer_paths": []}


def model_name(data, fallback):
    """The model a comm_open is for: at the top (protocol 1) or in its state."""
    state = data.get("state") if isinstance(data.get("state"), dict) else data
    return state.get("_model_name") or fallback, state.get("_view_name")
