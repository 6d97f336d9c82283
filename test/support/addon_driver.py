"""Drives the Tessera add-on inside a background Blender, for test/addon.e2e-spec.ts.

  blender -b --factory-startup -Y --python-exit-code 1 --python addon_driver.py -- STEPS.json OUT.json

STEPS.json is a list of steps run in order, as an artist would in one Blender session. After each
step the results so far are written to OUT.json (the test reads them while Blender waits).
Operator errors are results (the message the artist would see), not failures of this script.
"""

import hashlib
import json
import os
import struct
import sys
import time
import traceback
import wave

import bpy


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def addon():
    return sys.modules["tessera"]


def run_operator(op, **kwargs):
    try:
        result = op(**kwargs)
        return {"ok": "FINISHED" in result, "result": sorted(result)}
    except RuntimeError as e:  # an ERROR report raises in background mode
        return {"ok": False, "error": str(e).strip()}


def step_install(s):
    bpy.ops.preferences.addon_install(filepath=s["zip"], overwrite=True)
    bpy.ops.preferences.addon_enable(module="tessera")
    return {"ok": "tessera" in bpy.context.preferences.addons}


def step_prefs(s):
    prefs = bpy.context.preferences.addons["tessera"].preferences
    prefs.coordinator_url = s["url"]
    prefs.api_key = s["key"]
    return {"ok": True}


def step_open(s):
    bpy.ops.wm.open_mainfile(filepath=s["blend"])
    return {"ok": True, "isDirty": bpy.data.is_dirty}


def step_edit(s):
    """An unsaved change, as an artist's session has: the file is then dirty."""
    bpy.context.scene.frame_end = s["frameEnd"]
    bpy.ops.ed.undo_push(message="edit")
    return {"ok": True, "isDirty": bpy.data.is_dirty}


def step_configure(s):
    for name, value in s["settings"].items():
        setattr(bpy.context.scene.tessera, name, value)
    return {"ok": True}


def step_submit(_s):
    path = bpy.data.filepath
    before = {"isDirty": bpy.data.is_dirty, "sha256": sha256(path) if path else None}
    out = run_operator(bpy.ops.tessera.submit)
    out.update(
        jobId=bpy.context.scene.tessera.job_id,
        before=before,
        after={"isDirty": bpy.data.is_dirty, "sha256": sha256(path) if path else None},
        filepath=bpy.data.filepath,
        # in the artist's session the images stay as they were: external
        packedImages=[i.name for i in bpy.data.images if i.packed_file is not None],
        externalImages=[i.name for i in bpy.data.images if i.source == "FILE" and i.filepath],
    )
    return out


def step_wait_for_file(s):
    deadline = time.monotonic() + s.get("timeoutS", 240)
    while not os.path.exists(s["path"]):
        if time.monotonic() > deadline:
            return {"ok": False, "error": "timed out waiting for %s" % s["path"]}
        time.sleep(0.2)
    return {"ok": True}


def step_fetch(s):
    out = run_operator(bpy.ops.tessera.fetch_frames, **({"job_id": s["jobId"]} if "jobId" in s else {}))
    scene = bpy.context.scene
    out["framePaths"] = {str(f): scene.render.frame_path(frame=f) for f in s.get("frames", [])}
    return out


def step_link_from(s):
    """Replaces object s["object"] of the open scene by the same object linked from s["library"]
    (relative path), and saves the file as s["save"]: a scene that depends on a library."""
    scene = bpy.context.scene
    bpy.data.objects.remove(bpy.data.objects[s["object"]])
    bpy.ops.wm.save_as_mainfile(filepath=s["save"])  # relative paths need the file's own folder
    with bpy.data.libraries.load(s["library"], link=True, relative=True) as (_src, dst):
        dst.objects = [s["object"]]
    for obj in dst.objects:
        scene.collection.objects.link(obj)
    bpy.ops.wm.save_as_mainfile(filepath=s["save"])
    return {
        "ok": True,
        "libraries": [lib.filepath for lib in bpy.data.libraries],
        "linked": sorted(b.name for b in list(bpy.data.objects) + list(bpy.data.images) if b.library),
    }


def step_add_font_and_sound(s):
    """Gives the open scene a text object set in the external font s["font"] (a file that exists)
    and a speaker playing s["sound"] (a short tone written here as 16-bit mono WAV), both by
    relative path, out of the camera's view; saves the file."""
    with wave.open(bpy.path.abspath(s["sound"]), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", (i % 16 - 8) * 1000) for i in range(800)))
    scene = bpy.context.scene
    caption = bpy.data.curves.new("Caption", type="FONT")
    caption.body = "Tessera"
    caption.font = bpy.data.fonts.load(s["font"])
    text = bpy.data.objects.new("Caption", caption)
    text.location = (0, 0, -100)
    scene.collection.objects.link(text)
    speaker = bpy.data.speakers.new("Speaker")
    speaker.sound = bpy.data.sounds.load(s["sound"])
    scene.collection.objects.link(bpy.data.objects.new("Speaker", speaker))
    bpy.ops.wm.save_mainfile()
    return {
        "ok": True,
        "fonts": [f.filepath for f in bpy.data.fonts if f.filepath != "<builtin>"],
        "sounds": [snd.filepath for snd in bpy.data.sounds],
    }


def step_packed_files(_s):
    """The open file's images, fonts and sounds: where they point and, when packed, the SHA-256
    of the bytes packed in the file."""
    files = {}
    for kind, coll in (("image", bpy.data.images), ("font", bpy.data.fonts), ("sound", bpy.data.sounds)):
        for block in coll:
            if block.filepath in ("", "<builtin>"):
                continue
            packed = block.packed_file
            files["%s %s" % (kind, block.name)] = {
                "filepath": block.filepath,
                "packedSha256": hashlib.sha256(bytes(packed.data)).hexdigest() if packed else None,
            }
    return {"ok": True, "files": files}


def step_naming(s):
    """Blender's own output names against the add-on's, for several output path patterns."""
    scene = bpy.context.scene
    scene.render.image_settings.file_format = "PNG"
    client = addon().client
    mismatches, checked = [], 0
    for use_ext in (True, False):
        scene.render.use_file_extension = use_ext
        for pattern in s["patterns"]:
            scene.render.filepath = pattern
            for frame in s["frames"]:
                blender = scene.render.frame_path(frame=frame)
                ours = client.frame_output_path(bpy.path.abspath(pattern), frame, use_ext)
                checked += 1
                if blender != ours:
                    mismatches.append({"pattern": pattern, "frame": frame, "blender": blender, "addon": ours})
    return {"ok": not mismatches, "checked": checked, "mismatches": mismatches}


STEPS = {
    "install": step_install,
    "prefs": step_prefs,
    "open": step_open,
    "edit": step_edit,
    "configure": step_configure,
    "submit": step_submit,
    "waitForFile": step_wait_for_file,
    "fetch": step_fetch,
    "naming": step_naming,
    "linkFrom": step_link_from,
    "addFontAndSound": step_add_font_and_sound,
    "packedFiles": step_packed_files,
}


def main():
    args = sys.argv[sys.argv.index("--") + 1 :]
    with open(args[0], encoding="utf-8") as f:
        steps = json.load(f)
    results = []
    for s in steps:
        try:
            result = STEPS[s["do"]](s)
        except Exception as e:
            traceback.print_exc()
            result = {"ok": False, "crash": "%s: %s" % (type(e).__name__, e)}
        results.append(dict(result, do=s["do"]))
        tmp = args[1] + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(results, f)
        os.replace(tmp, args[1])


main()
