"""Build a small, deterministic, animated Cycles test scene and save it (uncompressed by default).

Run:
  blender -b --factory-startup -Y --python make_test_scene.py -- --out scene.blend \
      [--width 160 --height 90 --samples 16 --frames 3 --seed 7] [--no-camera] [--missing-image]
      [--external-image PATH] [--compress]

Settings are chosen for verifiable output on any Blender 3.x build: CPU device, every denoiser off
(Debian's Blender has no OpenImageDenoiser), dither 0 (8-bit PNG is otherwise dithered on save),
a fixed seed that is not animated, adaptive sampling off (its convergence test looks at neighbouring
pixels, so a border tile could stop sampling at a different point than the full frame).
"""

import argparse
import math
import os
import sys

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tessera_blend import emit, script_args  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(prog="make_test_scene.py")
    p.add_argument("--out", required=True)
    p.add_argument("--width", type=int, default=160)
    p.add_argument("--height", type=int, default=90)
    p.add_argument("--samples", type=int, default=16)
    p.add_argument("--frames", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-camera", action="store_true", help="omit the camera (invalid scene)")
    p.add_argument(
        "--missing-image",
        action="store_true",
        help="texture one object with an external image that does not exist",
    )
    p.add_argument(
        "--external-image",
        default=None,
        help="texture one object with this external (not packed) image path",
    )
    p.add_argument("--compress", action="store_true", help="save compressed (zstd in Blender 3.0+)")
    p.add_argument(
        "--hostile-marker",
        default=None,
        help="add Python that writes this file when it runs: a text block registered to run on "
        "load and a scripted driver (a hostile scene; render nodes must not run either)",
    )
    return p.parse_args(script_args())


def clear_scene():
    for collection in (
        bpy.data.objects,
        bpy.data.meshes,
        bpy.data.materials,
        bpy.data.lights,
        bpy.data.cameras,
        bpy.data.worlds,
    ):
        for block in list(collection):
            collection.remove(block)


def material(name, rgba, roughness=0.5, metallic=0.0, emission=None):
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = rgba
    bsdf.inputs["Roughness"].default_value = roughness
    bsdf.inputs["Metallic"].default_value = metallic
    if emission is not None:
        bsdf.inputs["Emission"].default_value = emission
        bsdf.inputs["Emission Strength"].default_value = 2.0
    return mat


def add_mesh_object(op, name, mat, **kwargs):
    op(**kwargs)
    obj = bpy.context.active_object
    obj.name = name
    obj.data.materials.append(mat)
    return obj


def build(args):
    scene = bpy.context.scene
    clear_scene()

    world = bpy.data.worlds.new("World")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.05, 0.08, 0.12, 1.0)
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = 1.0
    scene.world = world

    ground = add_mesh_object(
        bpy.ops.mesh.primitive_plane_add,
        "Ground",
        material("Ground", (0.6, 0.55, 0.5, 1.0), roughness=0.8),
        size=12,
        location=(0, 0, 0),
    )
    cube = add_mesh_object(
        bpy.ops.mesh.primitive_cube_add,
        "Cube",
        material("Red", (0.8, 0.1, 0.08, 1.0), roughness=0.3),
        size=1.2,
        location=(-1.4, 0, 0.6),
    )
    sphere = add_mesh_object(
        bpy.ops.mesh.primitive_uv_sphere_add,
        "Sphere",
        material("Metal", (0.7, 0.75, 0.8, 1.0), roughness=0.15, metallic=1.0),
        radius=0.7,
        segments=24,
        ring_count=12,
        location=(1.2, 0.3, 0.7),
    )
    bpy.ops.object.shade_smooth()
    add_mesh_object(
        bpy.ops.mesh.primitive_ico_sphere_add,
        "Lamp",
        material("Glow", (0.2, 0.6, 1.0, 1.0), emission=(0.2, 0.6, 1.0, 1.0)),
        radius=0.3,
        subdivisions=2,
        location=(0.1, -1.2, 0.3),
    )
    del ground, sphere

    image_path = args.external_image
    if args.missing_image:
        image_path = "//textures/does_not_exist.png"
    if image_path:
        mat = cube.data.materials[0]
        tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
        tex.image = bpy.data.images.new("MissingTexture" if args.missing_image else "Texture", 4, 4)
        tex.image.source = "FILE"
        tex.image.filepath = image_path
        bsdf = mat.node_tree.nodes["Principled BSDF"]
        mat.node_tree.links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])

    sun_data = bpy.data.lights.new("Sun", type="SUN")
    sun_data.energy = 3.0
    sun_data.angle = math.radians(5)
    sun = bpy.data.objects.new("Sun", sun_data)
    sun.rotation_euler = (math.radians(50), math.radians(10), math.radians(30))
    scene.collection.objects.link(sun)

    # Animation: the cube moves and turns, so every frame differs.
    last = max(1, args.frames)
    cube.location = (-1.4, 0, 0.6)
    cube.rotation_euler = (0, 0, 0)
    cube.keyframe_insert("location", frame=1)
    cube.keyframe_insert("rotation_euler", frame=1)
    cube.location = (-0.4, 0.8, 0.9)
    cube.rotation_euler = (0, 0, math.radians(60))
    cube.keyframe_insert("location", frame=last + 1)
    cube.keyframe_insert("rotation_euler", frame=last + 1)

    if not args.no_camera:
        cam_data = bpy.data.cameras.new("Camera")
        cam_data.lens = 35
        cam = bpy.data.objects.new("Camera", cam_data)
        scene.collection.objects.link(cam)
        cam.location = (0, -7, 3.2)
        cam.rotation_euler = (math.radians(70), 0, 0)
        cam.keyframe_insert("location", frame=1)
        cam.location = (0.8, -6.6, 3.2)
        cam.keyframe_insert("location", frame=last + 1)
        scene.camera = cam

    configure_render(scene, args)


def configure_render(scene, args):
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = args.samples
    scene.cycles.preview_samples = min(args.samples, 8)
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.seed = args.seed
    scene.cycles.use_animated_seed = False
    scene.cycles.use_denoising = False
    scene.cycles.use_preview_denoising = False
    scene.cycles.max_bounces = 4
    scene.cycles.diffuse_bounces = 2
    scene.cycles.glossy_bounces = 2
    scene.cycles.transmission_bounces = 2
    scene.cycles.volume_bounces = 0
    scene.cycles.transparent_max_bounces = 2
    scene.cycles.caustics_reflective = False
    scene.cycles.caustics_refractive = False
    for layer in scene.view_layers:
        if hasattr(layer, "cycles"):
            for flag in ("use_denoising", "denoising_store_passes"):
                if hasattr(layer.cycles, flag):
                    setattr(layer.cycles, flag, False)

    r = scene.render
    r.resolution_x = args.width
    r.resolution_y = args.height
    r.resolution_percentage = 100
    r.pixel_aspect_x = 1
    r.pixel_aspect_y = 1
    r.fps = 24
    r.fps_base = 1
    r.dither_intensity = 0.0
    r.film_transparent = False
    r.use_border = False
    r.use_crop_to_border = False
    r.use_compositing = False
    r.use_sequencer = False
    r.use_motion_blur = False
    r.use_file_extension = True
    r.filepath = "//frames/frame_####"
    r.image_settings.file_format = "PNG"
    r.image_settings.color_mode = "RGBA"
    r.image_settings.color_depth = "8"
    r.image_settings.compression = 15

    scene.view_settings.view_transform = "Standard"
    scene.view_settings.look = "None"
    scene.view_settings.exposure = 0.0
    scene.view_settings.gamma = 1.0
    scene.sequencer_colorspace_settings.name = "sRGB"

    scene.frame_start = 1
    scene.frame_end = max(1, args.frames)
    scene.frame_step = 1
    scene.frame_set(1)


def add_hostile_python(marker):
    """What a malicious .blend can carry: code that runs on open (a registered text block) and on
    every evaluation (a driver expression) -- only when Python auto-execution is allowed."""
    code = "open(%r, 'a').write('%s\\n')"
    text = bpy.data.texts.new("startup.py")
    text.write("import bpy\n" + code % (marker, "text block ran") + "\n")
    text.use_module = True  # "Register": executed when the file is loaded with auto-exec on
    obj = next(o for o in bpy.data.objects if o.type == "MESH")
    fcurve = obj.driver_add("location", 2)
    fcurve.driver.type = "SCRIPTED"
    # not a "simple expression", so only full Python can evaluate it
    fcurve.driver.expression = "(%s and 0) or %r" % (code % (marker, "driver ran"), obj.location.z)


def main():
    args = parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    if os.path.exists(out):
        os.remove(out)  # otherwise Blender keeps the old file as out.blend1
    build(args)
    if args.hostile_marker:
        add_hostile_python(args.hostile_marker)
    bpy.ops.wm.save_as_mainfile(filepath=out, compress=args.compress, check_existing=False)
    emit({"ok": True, "out": out})


main()
