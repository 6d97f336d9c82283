"""Make a saved copy of the artist's scene self-contained, in a second background Blender.

Run by the submit operator on a copy it saved (never on the artist's file):
  blender -b --factory-startup -Y COPY.blend --python-exit-code 1 --python pack_copy.py -- REPORT.json

Linked data-blocks are made local and external files (images, fonts, sounds, volumes) packed; the
copy is saved in place. REPORT.json gets {"madeLocal": n, "packed": [...], "problems": [...]}:
problems are what the farm could not render with (missing or unpackable files), in words.
"""

import json
import os
import sys
import traceback

import bpy


def id_collections():
    for name in dir(bpy.data):
        coll = getattr(bpy.data, name, None)
        if isinstance(coll, bpy.types.bpy_prop_collection) and name != "window_managers":
            yield coll


def linked_ids():
    found = []
    for coll in id_collections():
        for block in coll:
            if isinstance(block, bpy.types.ID) and getattr(block, "library", None) is not None:
                found.append(block)
    return found


def packed_names():
    names = set()
    for coll in (bpy.data.images, bpy.data.sounds, bpy.data.fonts, getattr(bpy.data, "volumes", [])):
        for block in coll:
            if block.packed_file is not None:
                names.add("%s '%s'" % (type(block).__name__.lower(), block.name))
    return names


def real_path(path, library=None):
    # Paths in the copy are relative to its temporary folder: name the artist's real file.
    return os.path.normpath(bpy.path.abspath(path, library=library))


def make_everything_local(report):
    missing = [
        real_path(lib.filepath)
        for lib in bpy.data.libraries
        if not os.path.exists(real_path(lib.filepath))
    ]
    for path in missing:
        report["problems"].append("linked library %s is missing" % path)
    before = linked_ids()
    if not before or missing:
        return
    try:
        # Same as Object > Relations > Make Local > All Data-Blocks.
        bpy.ops.object.make_local(type="ALL")
    except RuntimeError:
        pass
    for block in linked_ids():
        try:
            block.make_local()
        except RuntimeError:
            pass
    remaining = linked_ids()
    report["madeLocal"] = len(before) - len(remaining)
    for block in remaining:
        report["problems"].append(
            "'%s' stays linked from %s" % (block.name, real_path(block.library.filepath))
        )
    for lib in list(bpy.data.libraries):
        if not any(b.library == lib for b in remaining):
            bpy.data.libraries.remove(lib)


def main():
    out = sys.argv[sys.argv.index("--") + 1]
    report = {"madeLocal": 0, "packed": [], "problems": []}
    try:
        make_everything_local(report)
        before = packed_names()
        try:
            bpy.ops.file.pack_all()
        except RuntimeError:
            pass  # a file it could not find or read: listed below with the others
        report["packed"] = sorted(packed_names() - before)
        # Whatever still points outside the file: image sequences, movies, caches, missing files.
        libraries = {real_path(lib.filepath) for lib in bpy.data.libraries}  # reported above
        for raw in bpy.utils.blend_paths(absolute=True, packed=False, local=True):
            path = os.path.normpath(raw)
            if path in libraries:
                continue
            if os.path.exists(path):
                report["problems"].append(
                    "%s cannot be packed (image sequence, movie or cache?)" % path
                )
            else:
                report["problems"].append("missing file %s" % path)
        bpy.ops.wm.save_mainfile()
    except Exception as e:  # reported to the artist, not swallowed
        traceback.print_exc()
        report["problems"].append("packing failed: %s" % e)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(report, f)


main()
