"""Helpers shared by the Tessera scripts that run inside Blender (imported, never run directly)."""

import ctypes
import glob
import json
import os
import re
import sys

import bpy

MARK = "@@TESSERA@@ "
# Echoed in every message so the parent can tell our lines from Blender log lines that merely
# contain the marker (names from the .blend appear in Blender's log). Unset when run by hand.
TOKEN = os.environ.get("TESSERA_PROTOCOL_TOKEN", "")
_libc = None


def _flush_c_stdio():
    # Blender logs through C stdio; flush it so our line never lands inside one of its lines.
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None)
        _libc.fflush(None)
    except Exception:  # best effort only
        pass


def emit(obj):
    """Write one protocol line: the marker and a JSON object."""
    _flush_c_stdio()
    if TOKEN:
        obj = dict(obj, token=TOKEN)
    sys.stdout.write(MARK + json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def script_args():
    return sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []


def final_resolution(render):
    # Same integer maths as Blender's BKE_render_resolution().
    pct = render.resolution_percentage
    return (render.resolution_x * pct) // 100, (render.resolution_y * pct) // 100


_PATTERN = re.compile(r"<UDIM>|<UVTILE>|#+")


def _exists(path):
    """Exists, allowing UDIM (<UDIM>, <UVTILE>) and frame-number (###) patterns."""
    if not path:
        return False
    if _PATTERN.search(path):
        return bool(glob.glob(_PATTERN.sub("*", glob.escape(path).replace("[#]", "#"))))
    return os.path.exists(path)


def external_files():
    """Every file outside the .blend that the scene refers to (not packed), and whether it exists.

    A farm ships only the .blend, so any of these is either missing on the render node or, worse,
    one of the node's own files that would end up in the rendered image.
    """
    found = []
    seen = set()

    def add(kind, name, raw, library=None):
        if not raw:
            return
        full = os.path.normpath(bpy.path.abspath(raw, library=library))
        if full in seen:
            return
        seen.add(full)
        found.append(
            {"type": kind, "name": name, "path": raw, "absolutePath": full, "exists": _exists(full)}
        )

    for lib in bpy.data.libraries:
        if lib.packed_file is None:
            add("library", lib.name, lib.filepath)
    for img in bpy.data.images:
        if img.packed_file is None and img.source in {"FILE", "SEQUENCE", "TILED", "MOVIE"}:
            add("image", img.name, img.filepath, img.library)
    for snd in bpy.data.sounds:
        if snd.packed_file is None:
            add("sound", snd.name, snd.filepath, snd.library)
    for clip in bpy.data.movieclips:
        add("movieclip", clip.name, clip.filepath, clip.library)
    for font in bpy.data.fonts:
        if font.packed_file is None and font.filepath != "<builtin>":
            add("font", font.name, font.filepath, font.library)
    for vol in getattr(bpy.data, "volumes", []):
        if vol.packed_file is None:
            add("volume", vol.name, vol.filepath, vol.library)
    for cache in bpy.data.cache_files:
        add("cachefile", cache.name, cache.filepath, cache.library)
    # Anything else Blender itself knows about (sequencer strips, caches, IES, OSL scripts, ...).
    try:
        for raw in bpy.utils.blend_paths(absolute=True, packed=False, local=False):
            add("other", "", raw)
    except Exception:  # API differences between versions
        pass
    return found
