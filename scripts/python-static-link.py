"""Prints, for meson, the static libpython of this interpreter and the linker
arguments that go with it (two lines), or nothing when it has none."""
import os
import sysconfig

v = sysconfig.get_config_var
lib = os.path.join(v("LIBPL") or "", v("LIBRARY") or "")
if lib.endswith(".a") and os.path.isfile(lib):
    flags = " ".join(v(name) or "" for name in ("LINKFORSHARED", "LIBS", "MODLIBS", "SYSLIBS"))
    # Python 3.13+ names archives of its own build tree (Modules/_hacl/libHacl_*.a) by
    # relative paths that exist nowhere else. They are left out here; meson then
    # checks whether the archive links without them (Debian's 3.13 and 3.14 do not:
    # their built-in _sha2 needs HACL) and falls back to the shared libpython.
    kept = [f for f in flags.split() if not (f.endswith(".a") and not os.path.isabs(f))]
    print(lib)
    print(" ".join(kept))
