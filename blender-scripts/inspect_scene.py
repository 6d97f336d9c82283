"""Inspect an untrusted .blend and print one line: "@@TESSERA@@ {json}".

Run (the TypeScript side builds this command line, see libs/blender):
  blender -b --factory-startup -Y --python-exit-code 1 --python inspect_scene.py -- --blend X.blend

The file is opened by this script (not on Blender's command line) so that a file Blender cannot
read is an error here, instead of Blender silently carrying on with its default scene.
Python in the file (drivers, registered text blocks) never runs: autoexec is off.

Success: {"ok": true, ...facts} and exit code 0.
Failure: {"ok": false, "error": ".."} and exit code 1.
"""

import argparse
import os
import sys
import traceback

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_blend import emit, external_files, final_resolution, script_args  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(prog="inspect_scene.py")
    p.add_argument("--blend", required=True)
    p.add_argument("--scene", default=None, help="scene name (default: the file's active scene)")
    return p.parse_args(script_args())


def samples_of(scene):
    engine = scene.render.engine
    if engine == "CYCLES":
        return scene.cycles.samples
    if engine in {"BLENDER_EEVEE", "BLENDER_EEVEE_NEXT"}:
        return scene.eevee.taa_render_samples
    return None


def cycles_facts(scene):
    if scene.render.engine != "CYCLES":
        return None
    c = scene.cycles
    # Cycles denoises a view layer only when both the scene and the layer ask for it.
    denoising = bool(c.use_denoising) and any(
        getattr(getattr(layer, "cycles", None), "use_denoising", True)
        for layer in scene.view_layers
        if layer.use
    )
    return {
        "device": c.device,
        "seed": c.seed,
        "animatedSeed": c.use_animated_seed,
        "adaptiveSampling": c.use_adaptive_sampling,
        "denoising": denoising,
        # Read only when used: Blender logs a warning for a denoiser this build lacks.
        "denoiser": c.denoiser if denoising else None,
        "timeLimit": getattr(c, "time_limit", 0.0),
    }


def python_drivers():
    """Drivers with Python expressions: they silently do nothing with autoexec off."""
    count = 0
    for coll in (bpy.data.objects, bpy.data.materials, bpy.data.shape_keys, bpy.data.scenes):
        for block in coll:
            anim = getattr(block, "animation_data", None)
            if anim is None:
                continue
            for fc in anim.drivers:
                if fc.driver.type == "SCRIPTED" and fc.driver.expression.strip():
                    # Simple expressions run without Python; anything else needs autoexec.
                    if not getattr(fc.driver, "is_simple_expression", False):
                        count += 1
    return count


def has_compositing(scene):
    tree = scene.node_tree
    if not (scene.render.use_compositing and scene.use_nodes and tree):
        return False
    trivial = {"R_LAYERS", "COMPOSITE", "VIEWER"}
    return any(node.type not in trivial for node in tree.nodes)


def has_sequencer(scene):
    ed = scene.sequence_editor
    return bool(scene.render.use_sequencer and ed and len(ed.sequences_all) > 0)


def inspect(scene):
    r = scene.render
    width, height = final_resolution(r)
    cameras = [o for o in scene.objects if o.type == "CAMERA"]
    external = external_files()
    missing = [
        {k: f[k] for k in ("type", "name", "path", "absolutePath")}
        for f in external
        if not f["exists"]
    ]
    return {
        "ok": True,
        "blenderVersion": bpy.app.version_string,
        "fileVersion": "%d.%d" % tuple(bpy.data.version[:2]),
        "fileSubversion": bpy.data.version[2],
        "savedWithNewerBlender": tuple(bpy.data.version[:2]) > tuple(bpy.app.version[:2]),
        "scene": scene.name,
        "scenes": [s.name for s in bpy.data.scenes],
        "engine": r.engine,
        "resolution": {"width": width, "height": height},
        "baseResolution": {"width": r.resolution_x, "height": r.resolution_y},
        "resolutionPercentage": r.resolution_percentage,
        "pixelAspect": {"x": r.pixel_aspect_x, "y": r.pixel_aspect_y},
        "frameStart": scene.frame_start,
        "frameEnd": scene.frame_end,
        "frameStep": scene.frame_step,
        "fps": r.fps / r.fps_base,
        "samples": samples_of(scene),
        "seed": scene.cycles.seed if r.engine == "CYCLES" else None,
        "hasCamera": scene.camera is not None,
        "camera": scene.camera.name if scene.camera else None,
        "cameraCount": len(cameras),
        "cameraMarkers": sum(1 for m in scene.timeline_markers if m.camera is not None),
        "missingFiles": [f["path"] for f in missing],
        "missingFileDetails": missing,
        # Everything not packed, present or not: a farm ships only the .blend.
        "externalFiles": [f["path"] for f in external],
        "cycles": cycles_facts(scene),
        "output": {
            "fileFormat": r.image_settings.file_format,
            "colorMode": r.image_settings.color_mode,
            "colorDepth": r.image_settings.color_depth,
            "filmTransparent": r.film_transparent,
            "ditherIntensity": r.dither_intensity,
            "viewTransform": scene.view_settings.view_transform,
            "look": scene.view_settings.look,
            "burnInStamp": r.use_stamp,
        },
        "border": {
            "enabled": r.use_border,
            "crop": r.use_crop_to_border,
        },
        "viewLayers": [layer.name for layer in scene.view_layers if layer.use],
        "multiview": r.use_multiview,
        "motionBlur": r.use_motion_blur,
        "compositing": has_compositing(scene),
        "sequencer": has_sequencer(scene),
        "pythonDrivers": python_drivers(),
        "autoexecBlocked": bool(getattr(bpy.app, "autoexec_fail", False)),
        "linkedLibraries": len(bpy.data.libraries),
        "objects": len(scene.objects),
    }


def main():
    args = parse_args()
    args.blend = os.path.abspath(args.blend)
    if not os.path.isfile(args.blend):
        emit({"ok": False, "error": "file not found: %s" % args.blend})
        sys.exit(1)
    try:
        bpy.ops.wm.open_mainfile(filepath=args.blend, load_ui=False, use_scripts=False)
    except Exception as e:
        emit({"ok": False, "error": "Blender cannot open the file: %s" % str(e).strip()})
        sys.exit(1)
    if os.path.realpath(bpy.data.filepath) != os.path.realpath(args.blend):
        emit({"ok": False, "error": "Blender did not load the file"})
        sys.exit(1)
    if args.scene is not None:
        scene = bpy.data.scenes.get(args.scene)
        if scene is None:
            emit({"ok": False, "error": "no scene named %r" % args.scene})
            sys.exit(1)
    else:
        scene = bpy.context.scene
    if scene is None:
        emit({"ok": False, "error": "the file has no scene"})
        sys.exit(1)
    try:
        info = inspect(scene)
    except Exception as e:
        traceback.print_exc()
        emit({"ok": False, "error": "inspection failed: %s" % (str(e).strip() or repr(e))})
        sys.exit(1)
    emit(info)


main()
