"""Persistent tile-render worker: one Blender process per scene, many regions per process.

Run (the TypeScript side builds this command line, see libs/blender):
  blender -b --factory-startup -Y --python-exit-code 1 --python tile_worker.py -- \
      [--blend scene.blend] [--device CPU] [--device-id ID] [--allow-external]

Without --blend the worker is a spare: Blender starts (about 1.5 s of the cold start here), says
{"waiting": true} and loads the scene named by the first line on stdin, {"cmd": "load",
"blend": "/abs/scene.blend"}. A spare loads one scene in its life, like any worker.

Protocol (JSON lines). Blender's own log lines pass through stdout unchanged; every protocol line
starts with the marker "@@TESSERA@@ " and, when TESSERA_PROTOCOL_TOKEN is set in the environment,
carries "token": <that value> (not shown below).
  start-up reply:  {"ready": true, "blenderVersion": .., "engine": .., "width": .., "height": ..}
                   or {"ready": false, "error": ".."} and exit code 1
  request (stdin): {"id": "..", "frame": 2, "region": {"x":0, "y":0, "width":80, "height":45},
                    "seed": 7, "samples": 16|null, "threads": 2|null, "out": "/abs/tile.png"}
  reply:           {"id": "..", "ok": true, "renderMs": .., "saveMs": .., "width": .., "height": ..}
                   or {"id": "..", "ok": false, "error": ".."}
  quit:            {"cmd": "quit"} or end of stdin -> exit code 0

The region is in pixels of the final resolution (after resolution_percentage) with a top-left
origin. It is rendered with use_border + use_crop_to_border, so the PNG is exactly width x height
and bit-identical to the same crop of a full-frame render (same seed and samples, dither 0).
The worker writes nothing but the requested output file, without PNG text metadata (Blender would
store the .blend path, date and render times there), so the same pixels give the same bytes.
"""

import argparse
import json
import os
import struct
import sys
import time
import traceback

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_blend import emit, external_files, final_resolution, script_args  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(prog="tile_worker.py")
    p.add_argument("--blend", help="the scene; without it, wait for a load command on stdin")
    p.add_argument("--device", default="CPU")
    p.add_argument(
        "--device-id",
        default=None,
        help="enable only this Cycles device (one worker per GPU); default every device of the type",
    )
    p.add_argument(
        "--allow-external",
        action="store_true",
        help="render even if the scene uses files outside the .blend that exist on this machine",
    )
    return p.parse_args(script_args())


def border_edge(pixel, size):
    """Normalised border coordinate that Blender maps back to exactly `pixel`.

    Blender (render_init_from_main) and Cycles (get_buffer_params) both compute
    int(border * size), truncating. Aiming at the centre of the pixel makes the truncation land on
    `pixel` whatever the float32 rounding. Image edges are exact: 0.0 and 1.0.
    """
    if pixel <= 0:
        return 0.0
    if pixel >= size:
        return 1.0
    return (pixel + 0.5) / size


def set_device(scene, device, device_id=None):
    device = device.upper()
    if scene.render.engine != "CYCLES":
        return
    if device == "CPU":
        scene.cycles.device = "CPU"
        return
    prefs = bpy.context.preferences.addons["cycles"].preferences
    prefs.compute_device_type = device
    prefs.get_devices()
    usable = [d for d in prefs.devices if d.type == device and device_id in (None, d.id)]
    if not usable:
        raise RuntimeError("no %s device %s available to Cycles" % (device, device_id or ""))
    for d in prefs.devices:
        d.use = d in usable
    scene.cycles.device = "GPU"


def prepare(scene, device, device_id=None):
    """Pin output settings; return the scene's own values that requests may override."""
    r = scene.render
    r.use_persistent_data = True
    r.dither_intensity = 0.0
    r.use_border = True
    r.use_crop_to_border = True
    r.image_settings.file_format = "PNG"
    r.image_settings.color_mode = "RGBA"
    r.image_settings.color_depth = "8"
    if scene.render.engine == "CYCLES":
        scene.cycles.use_animated_seed = False
    # Stamps: a burnt-in one would be drawn into every tile; metadata ones are stripped anyway.
    for prop in r.bl_rna.properties:
        if prop.identifier.startswith("use_stamp"):
            setattr(r, prop.identifier, False)
    set_device(scene, device, device_id)
    # A request that leaves a value out gets the scene's, not the previous request's.
    return {
        "threads_mode": r.threads_mode,
        "threads": r.threads,
        "seed": scene.cycles.seed if r.engine == "CYCLES" else None,
        "samples": samples_of(scene),
    }


def samples_of(scene):
    if scene.render.engine == "CYCLES":
        return scene.cycles.samples
    if hasattr(scene, "eevee"):
        return scene.eevee.taa_render_samples
    return None


def strip_png_text(path):
    """Drop text/time chunks: Blender stores the .blend path, date and render times there, which
    leak the node's file layout and make the same pixels hash differently on every render."""
    with open(path, "rb") as f:
        data = f.read()
    kept = [data[:8]]
    i = 8
    while i + 8 <= len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        end = i + 12 + length
        if data[i + 4 : i + 8] not in (b"tEXt", b"zTXt", b"iTXt", b"tIME"):
            kept.append(data[i:end])
        i = end
    with open(path, "wb") as f:
        f.write(b"".join(kept))


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise RuntimeError("Blender did not write a PNG to %s" % path)
    return struct.unpack(">II", head[16:24])


def as_int(req, key, minimum=None, optional=False):
    v = req.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValueError("%s must be an integer" % key)
    if minimum is not None and v < minimum:
        raise ValueError("%s must be >= %d" % (key, minimum))
    return v


def render(scene, defaults, req):
    scene.frame_set(as_int(req, "frame"))
    width, height = final_resolution(scene.render)
    region = req.get("region")
    if not isinstance(region, dict):
        raise ValueError("region must be an object {x, y, width, height}")
    x = as_int(region, "x", 0)
    y = as_int(region, "y", 0)
    w = as_int(region, "width", 1)
    h = as_int(region, "height", 1)
    if x + w > width or y + h > height:
        raise ValueError(
            "region %dx%d+%d+%d is outside the %dx%d frame" % (w, h, x, y, width, height)
        )
    seed = as_int(req, "seed", 0, optional=True)
    samples = as_int(req, "samples", 1, optional=True)
    threads = as_int(req, "threads", 1, optional=True)
    out = req.get("out")
    if not isinstance(out, str) or not os.path.isabs(out) or not out.lower().endswith(".png"):
        raise ValueError("out must be an absolute path ending in .png")
    if not os.path.isdir(os.path.dirname(out)):
        raise ValueError("directory of out does not exist: %s" % os.path.dirname(out))

    r = scene.render
    # Top-left pixel rect -> Blender's normalised, bottom-left-origin border.
    bottom = height - (y + h)
    r.border_min_x = border_edge(x, width)
    r.border_max_x = border_edge(x + w, width)
    r.border_min_y = border_edge(bottom, height)
    r.border_max_y = border_edge(bottom + h, height)
    r.use_border = True
    r.use_crop_to_border = True
    r.dither_intensity = 0.0
    if threads is None:
        r.threads_mode = defaults["threads_mode"]
        r.threads = defaults["threads"]
    else:
        r.threads_mode = "FIXED"
        r.threads = threads
    if samples is None:
        samples = defaults["samples"]
    if r.engine == "CYCLES":
        scene.cycles.seed = defaults["seed"] if seed is None else seed
        scene.cycles.use_animated_seed = False
        scene.cycles.samples = samples
    elif samples is not None and hasattr(scene, "eevee"):
        scene.eevee.taa_render_samples = samples

    t0 = time.perf_counter()
    bpy.ops.render.render(write_still=False)
    t1 = time.perf_counter()
    # save_render writes exactly `out` (no frame-number or extension substitution) using the
    # scene's output settings, which prepare() pinned to PNG RGBA 8-bit.
    bpy.data.images["Render Result"].save_render(filepath=out, scene=scene)
    strip_png_text(out)
    t2 = time.perf_counter()
    got_w, got_h = png_size(out)
    if (got_w, got_h) != (w, h):
        raise RuntimeError("rendered %dx%d, expected %dx%d" % (got_w, got_h, w, h))
    return {
        "renderMs": round((t1 - t0) * 1000, 1),
        "saveMs": round((t2 - t1) * 1000, 1),
        "width": got_w,
        "height": got_h,
    }


def serve(scene, defaults):
    while True:
        line = sys.stdin.readline()
        if not line:
            return  # end of stdin: the parent closed us
        line = line.strip()
        if not line:
            continue
        req_id = None
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("request must be a JSON object")
            req_id = req.get("id")
            if req.get("cmd") == "quit":
                return
            result = render(scene, defaults, req)
            emit(dict(id=req_id, ok=True, **result))
        except Exception as e:  # one bad request must not kill the worker
            msg = str(e) or e.__class__.__name__
            if not isinstance(e, (ValueError, RuntimeError)):
                traceback.print_exc()
            emit({"id": req_id, "ok": False, "error": msg})


def wait_for_scene():
    """A spare's first request names its scene; None when the parent closes or quits first."""
    emit({"waiting": True})
    while True:
        line = sys.stdin.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
        except ValueError:
            req = None
        if isinstance(req, dict) and req.get("cmd") == "quit":
            return None
        if isinstance(req, dict) and req.get("cmd") == "load" and isinstance(req.get("blend"), str):
            return req["blend"]
        emit({"ready": False, "error": "expected {\"cmd\": \"load\", \"blend\": path} first"})
        sys.exit(1)


def main():
    args = parse_args()
    blend = args.blend or wait_for_scene()
    if blend is None:
        return
    try:
        bpy.ops.wm.open_mainfile(filepath=blend, load_ui=False, use_scripts=False)
        scene = bpy.context.scene
        if scene.camera is None:
            raise RuntimeError("scene '%s' has no active camera" % scene.name)
        if not args.allow_external:
            # Only the .blend comes from the requester: a texture path pointing at one of this
            # machine's files would put that file into the uploaded tile.
            present = [f["absolutePath"] for f in external_files() if f["exists"]]
            if present:
                raise RuntimeError(
                    "the scene uses files outside the .blend (pack them into it): "
                    + ", ".join(present[:5])
                    + (" and %d more" % (len(present) - 5) if len(present) > 5 else "")
                )
        defaults = prepare(scene, args.device, args.device_id)
    except Exception as e:
        emit({"ready": False, "error": str(e).strip() or e.__class__.__name__})
        sys.exit(1)
    width, height = final_resolution(scene.render)
    emit(
        {
            "ready": True,
            "blenderVersion": bpy.app.version_string,
            "engine": scene.render.engine,
            "width": width,
            "height": height,
            "frameStart": scene.frame_start,
            "frameEnd": scene.frame_end,
            "filmTransparent": bool(scene.render.film_transparent),
        }
    )
    serve(scene, defaults)


main()
