"""Prints, for meson, the static libpython of this interpreter and the linker
arguments that go with it (two lines), or nothing when it has none."""
import os
import sysconfig

v = sysconfig.get_config_var
lib = os.path.join(v("LIBPL") or "", v("LIBRARY") or "")
if lib.endswith(".a") and os.path.isfile(lib):
    print(lib)
    print(" ".join(v(name) or "" for name in ("LINKFORSHARED", "LIBS", "MODLIBS", "SYSLIBS")))
