"""Report what this Blender can render on: its version and the Cycles devices it sees.

Run (libs/blender/src/device-probe.ts builds the command line):
  blender -b --factory-startup -Y --python-exit-code 1 --python probe_devices.py

Reply (one protocol line):
  {"blenderVersion": "3.4.1", "backends": ["CUDA", ...],
   "devices": [{"type": "CUDA", "name": "NVIDIA GeForce RTX 3090", "id": "CUDA_NVIDIA..._0000:01:00"}, ...]}
The CPU is always listed. Blender does not expose device memory to Python; the agent adds it from
the vendors' tools where they exist.
"""

import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_blend import emit  # noqa: E402

BACKENDS = ("CUDA", "OPTIX", "HIP", "METAL", "ONEAPI")


def main():
    devices = []
    backends = []
    try:
        prefs = bpy.context.preferences.addons["cycles"].preferences
    except KeyError:
        prefs = None
    if prefs is not None:
        for backend in BACKENDS:
            try:
                found = prefs.get_devices_for_type(backend)
            except (TypeError, ValueError, AttributeError):
                continue  # this build has no such backend
            gpus = [d for d in found if d.type == backend]
            if gpus:
                backends.append(backend)
            for d in gpus:
                devices.append({"type": d.type, "name": d.name, "id": d.id})
    devices.append({"type": "CPU", "name": "CPU", "id": "CPU"})
    emit({"blenderVersion": bpy.app.version_string, "backends": backends, "devices": devices})


main()
