"""REFERENCE ONLY (bench/run's headless section): ipykernel as the kernel of a
headless Blender, for comparison with addons/bpy_jupyter/kernel_process.py.

    blender -b --factory-startup --python ipykernel_headless_blender.py -- -f CONNECTION_FILE

The seed (seed_in_blender.py) cannot serve under `blender -b`: timers never run
there, so its asyncio loop would never turn. The fair headless counterpart is
ipykernel's own blocking loop, IPKernelApp.launch_instance(), with bpy, C and D
in the namespace as ours has them. It returns after a shutdown_request; the script
then ends and Blender quits.
"""
import sys

import bpy
from ipykernel.kernelapp import IPKernelApp

argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
IPKernelApp.launch_instance(argv=argv, user_ns={"bpy": bpy, "C": bpy.context, "D": bpy.data})
IPKernelApp.instance().close()
