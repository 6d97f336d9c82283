"""Render regions of a scene with a chosen Cycles CPU kernel and BVH layout.

The honest cross-"device" variations available on a CPU-only machine, for calibrating the
perceptual comparison of libs/verification (driven by libs/verification/scripts/make-fixtures.ts):
Cycles picks its CPU kernel by instruction set (AVX2, SSE4.1, SSE2) and traces Embree or its own
BVH2 (the layout GPUs use); these render slightly different pixels from the same seed, like a
GPU does. Blender's dither (on by default in real scenes) is a third variation.

Run:
  blender -b --factory-startup --disable-autoexec --debug-cycles --python-exit-code 1 \
      --python make_verification_fixtures.py -- --blend scene.blend --requests requests.json \
      [--kernel AVX2|SSE41|SSE2]

requests.json: [{"out": "/abs/x.png", "frame": 1, "region": {"x":0,"y":0,"width":64,"height":36},
                 "seed": 7|null, "samples": 32|null, "threads": 2|null, "bvh": "EMBREE"|"BVH2",
                 "dither": 0.0}, ...]
Replies (protocol lines, see tessera_blend.emit): {"ready": true, "blenderVersion": ..} first, then
{"out": .., "ok": true, "renderMs": ..} per request. With --debug-cycles Cycles logs the kernel it
loaded ("Using SSE4.1 CPU kernels."): the kernel is fixed when the first render creates the CPU
device, so one process renders with one kernel.
"""

import argparse
import json
import os
import sys
import time

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_blend import emit, final_resolution, script_args  # noqa: E402

# Cycles debug flags (scene.cycles.debug_use_cpu_*) are only applied when this preference pair is
# on (cycles/engine.py: reset()).
KERNEL_FLAGS = {
    "AVX2": {},
    "SSE41": {"debug_use_cpu_avx2": False, "debug_use_cpu_avx": False},
    "SSE2": {
        "debug_use_cpu_avx2": False,
        "debug_use_cpu_avx": False,
        "debug_use_cpu_sse41": False,
        "debug_use_cpu_sse3": False,
    },
}


def parse_args():
    p = argparse.ArgumentParser(prog="make_verification_fixtures.py")
    p.add_argument("--blend", required=True)
    p.add_argument("--requests", required=True)
    p.add_argument("--kernel", default="AVX2", choices=sorted(KERNEL_FLAGS))
    return p.parse_args(script_args())


def border_edge(pixel, size):
    """Same as tile_worker.py: the normalised border that Blender truncates back to `pixel`."""
    if pixel <= 0:
        return 0.0
    if pixel >= size:
        return 1.0
    return (pixel + 0.5) / size


def render(scene, defaults, req):
    r = scene.render
    scene.frame_set(int(req["frame"]))
    width, height = final_resolution(r)
    reg = req["region"]
    x, y, w, h = int(reg["x"]), int(reg["y"]), int(reg["width"]), int(reg["height"])
    if x < 0 or y < 0 or w < 1 or h < 1 or x + w > width or y + h > height:
        raise ValueError("region %r outside the %dx%d frame" % (reg, width, height))
    bottom = height - (y + h)
    r.border_min_x = border_edge(x, width)
    r.border_max_x = border_edge(x + w, width)
    r.border_min_y = border_edge(bottom, height)
    r.border_max_y = border_edge(bottom + h, height)
    r.use_border = True
    r.use_crop_to_border = True
    r.dither_intensity = float(req.get("dither") or 0.0)
    threads = req.get("threads")
    r.threads_mode = "FIXED" if threads else "AUTO"
    if threads:
        r.threads = int(threads)
    c = scene.cycles
    c.seed = defaults["seed"] if req.get("seed") is None else int(req["seed"])
    c.samples = defaults["samples"] if req.get("samples") is None else int(req["samples"])
    c.use_animated_seed = False
    c.debug_bvh_layout = req.get("bvh") or "EMBREE"
    t0 = time.perf_counter()
    bpy.ops.render.render(write_still=False)
    t1 = time.perf_counter()
    bpy.data.images["Render Result"].save_render(filepath=req["out"], scene=scene)
    return round((t1 - t0) * 1000, 1)


def main():
    args = parse_args()
    try:
        bpy.ops.wm.open_mainfile(filepath=args.blend, load_ui=False, use_scripts=False)
        prefs = bpy.context.preferences
        prefs.experimental.use_cycles_debug = True
        prefs.view.show_developer_ui = True
        scene = bpy.context.scene
        if scene.render.engine != "CYCLES":
            raise RuntimeError("the scene does not render with Cycles")
        scene.cycles.device = "CPU"
        for flag, value in KERNEL_FLAGS[args.kernel].items():
            setattr(scene.cycles, flag, value)
        r = scene.render
        r.image_settings.file_format = "PNG"
        r.image_settings.color_mode = "RGBA"
        r.image_settings.color_depth = "8"
        r.use_persistent_data = False  # the BVH layout may change between requests
        for prop in r.bl_rna.properties:
            if prop.identifier.startswith("use_stamp"):
                setattr(r, prop.identifier, False)
        defaults = {"seed": scene.cycles.seed, "samples": scene.cycles.samples}
        with open(args.requests) as f:
            requests = json.load(f)
    except Exception as e:
        emit({"ready": False, "error": str(e).strip() or e.__class__.__name__})
        sys.exit(1)
    emit({"ready": True, "blenderVersion": bpy.app.version_string, "kernel": args.kernel})
    for req in requests:
        try:
            ms = render(scene, defaults, req)
            emit({"out": req["out"], "ok": True, "renderMs": ms})
        except Exception as e:
            emit({"out": req.get("out"), "ok": False, "error": str(e) or e.__class__.__name__})
            sys.exit(1)


main()
