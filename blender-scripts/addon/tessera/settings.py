"""Add-on preferences (where the farm is) and the per-scene job settings of the panel."""

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty

from . import client

ADDON_ID = __package__


def preferences(context=None):
    context = context or bpy.context
    addon = context.preferences.addons.get(ADDON_ID)
    if addon is None:
        raise client.TesseraError("The Tessera add-on is not enabled")
    return addon.preferences


class TesseraPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_ID

    coordinator_url: StringProperty(
        name="Coordinator URL",
        description="Where the Tessera coordinator answers, e.g. http://farm.example:8080",
        default="http://127.0.0.1:8080",
    )
    api_key: StringProperty(
        name="API key",
        description="Your requester key (tsk_...), from `npm run apikey -- create <name>`",
        subtype="PASSWORD",
    )

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "coordinator_url")
        layout.prop(self, "api_key")
        layout.operator("tessera.check_connection", icon="URL")


def _use_scene_range_changed(self, context):
    # Start the custom range from the scene's, so unticking does not jump to unrelated numbers.
    if not self.use_scene_range and context is not None and context.scene is not None:
        scene = context.scene
        self.frame_start = scene.frame_start
        self.frame_end = scene.frame_end
        self.frame_step = scene.frame_step


class TesseraJobSettings(bpy.types.PropertyGroup):
    use_scene_range: BoolProperty(
        name="Scene Frame Range",
        description="Render the scene's own frame range and step",
        default=True,
        update=_use_scene_range_changed,
    )
    frame_start: IntProperty(name="Start", default=1)
    frame_end: IntProperty(name="End", default=250)
    frame_step: IntProperty(name="Step", default=1, min=1)

    tiling: EnumProperty(
        name="Tiling",
        items=(
            ("grid", "Grid", "Split each frame into a grid of tiles"),
            ("size", "Tile Size", "Split each frame into tiles of about this size"),
        ),
        default="grid",
    )
    tiles_x: IntProperty(name="Tiles X", default=2, min=1, max=256)
    tiles_y: IntProperty(name="Tiles Y", default=2, min=1, max=256)
    tile_width: IntProperty(name="Tile Width", default=256, min=16, subtype="PIXEL")
    tile_height: IntProperty(name="Tile Height", default=256, min=16, subtype="PIXEL")
    overlap: IntProperty(
        name="Overlap",
        description="Margin rendered twice on interior tile edges, so neighbours can be checked",
        default=8,
        min=0,
        max=512,
        subtype="PIXEL",
    )
    use_samples: BoolProperty(name="Override Samples", default=False)
    samples: IntProperty(name="Samples", default=64, min=1, max=1_000_000)
    verification: EnumProperty(
        name="Verification",
        description="How hard the farm checks untrusted nodes' work before it counts",
        items=(
            ("off", "Off", "Trust every node (a farm of your own machines)"),
            ("light", "Light", "Few spot checks"),
            ("standard", "Standard", "Spot checks, heavier for new nodes"),
            ("paranoid", "Paranoid", "Many spot checks"),
        ),
        default="standard",
    )

    device: EnumProperty(
        name="Device",
        items=(
            ("any", "Any", "CPU or GPU nodes"),
            ("cpu", "CPU", "Only CPU nodes"),
            ("gpu", "GPU", "Only GPU nodes"),
        ),
        default="any",
    )
    min_vram_mb: IntProperty(
        name="Min VRAM",
        description="Only nodes with at least this much GPU memory, in MB (0: no requirement)",
        default=0,
        min=0,
    )
    min_blender_version: StringProperty(
        name="Min Blender",
        description="Only nodes running at least this Blender version, e.g. 4.2 (empty: any)",
        default="",
    )
    budget_wei: StringProperty(
        name="Budget (wei)",
        description="Most this job may cost in total, in wei (empty: no cap)",
        default="",
    )
    max_price_wei: StringProperty(
        name="Max Price (wei)",
        description="Most to pay per work unit, in wei (empty: no limit)",
        default="",
    )

    job_id: StringProperty(
        name="Job",
        description="The last job submitted from this scene",
        default="",
    )


def job_settings(scene):
    """The panel's settings as the plain dict client.job_fields takes."""
    s = scene.tessera
    if s.use_scene_range:
        start, end, step = scene.frame_start, scene.frame_end, scene.frame_step
    else:
        start, end, step = s.frame_start, s.frame_end, s.frame_step
    return {
        "frameStart": start,
        "frameEnd": end,
        "frameStep": step,
        "tiling": s.tiling,
        "tilesX": s.tiles_x,
        "tilesY": s.tiles_y,
        "tileWidth": s.tile_width,
        "tileHeight": s.tile_height,
        "overlap": s.overlap,
        "samples": s.samples if s.use_samples else None,
        "verification": s.verification,
        "device": s.device,
        "minVramMb": s.min_vram_mb,
        "minBlenderVersion": s.min_blender_version,
        "budgetWei": s.budget_wei,
        "maxPriceWei": s.max_price_wei,
    }


classes = (TesseraPreferences, TesseraJobSettings)


def register():
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.Scene.tessera = bpy.props.PointerProperty(type=TesseraJobSettings)


def unregister():
    del bpy.types.Scene.tessera
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
