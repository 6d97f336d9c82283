"""The Tessera panel in Properties > Render."""

import bpy

from . import client, settings, status


class _TesseraPanel:
    bl_space_type = "PROPERTIES"
    bl_region_type = "WINDOW"
    bl_context = "render"


class TESSERA_PT_main(_TesseraPanel, bpy.types.Panel):
    bl_label = "Tessera Render Farm"

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        scene = context.scene
        s = scene.tessera

        col = layout.column(heading="Frames")
        col.prop(s, "use_scene_range")
        sub = col.column(align=True)
        if s.use_scene_range:
            sub.enabled = False
            sub.prop(scene, "frame_start", text="Start")
            sub.prop(scene, "frame_end", text="End")
            sub.prop(scene, "frame_step", text="Step")
        else:
            sub.prop(s, "frame_start")
            sub.prop(s, "frame_end")
            sub.prop(s, "frame_step")

        col = layout.column()
        col.prop(s, "tiling")
        sub = col.column(align=True)
        if s.tiling == "grid":
            sub.prop(s, "tiles_x")
            sub.prop(s, "tiles_y")
        else:
            sub.prop(s, "tile_width")
            sub.prop(s, "tile_height")
        col.prop(s, "overlap")

        col = layout.column(heading="Samples")
        row = col.row(align=True)
        row.prop(s, "use_samples", text="")
        sub = row.row()
        sub.active = s.use_samples
        sub.prop(s, "samples", text="")
        layout.prop(s, "verification")

        task = status.current_task
        if status.busy():
            box = layout.box()
            box.label(text="%s: %s" % (task.title, task.text), icon="TIME")
            if hasattr(box, "progress"):  # Blender 4.0+
                box.progress(factor=task.fraction, text="%d%%" % round(100 * task.fraction))
            else:
                box.label(text="%d%% (Esc cancels)" % round(100 * task.fraction))
            box.operator("tessera.cancel", icon="CANCEL")
        else:
            layout.operator("tessera.submit", icon="EXPORT")


class TESSERA_PT_requirements(_TesseraPanel, bpy.types.Panel):
    bl_label = "Nodes and Budget"
    bl_parent_id = "TESSERA_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        s = context.scene.tessera
        layout.prop(s, "device")
        layout.prop(s, "min_vram_mb")
        layout.prop(s, "min_blender_version")
        layout.prop(s, "budget_wei")
        layout.prop(s, "max_price_wei")


class TESSERA_PT_job(_TesseraPanel, bpy.types.Panel):
    bl_label = "Job"
    bl_parent_id = "TESSERA_PT_main"

    @classmethod
    def poll(cls, context):
        return bool(context.scene.tessera.job_id)

    def draw(self, context):
        layout = self.layout
        job_id = context.scene.tessera.job_id
        layout.label(text="Job %s" % job_id)
        try:
            prefs = settings.preferences(context)
            base_url = client.normalize_url(prefs.coordinator_url)
        except client.TesseraError as e:
            layout.label(text=str(e), icon="ERROR")
            return
        status.watch(job_id, base_url, prefs.api_key)
        layout.operator("wm.url_open", text="Open in Dashboard", icon="URL").url = (
            client.dashboard_url(base_url, job_id)
        )
        view, error = status.snapshot(job_id)
        col = layout.column(align=True)
        if view is not None:
            for line in client.describe_job(view):
                col.label(text=line)
        elif not error:
            col.label(text="Asking the coordinator...")
        if error:
            col.label(text=error, icon="ERROR")
        layout.operator("tessera.fetch_frames", icon="IMPORT")


classes = (TESSERA_PT_main, TESSERA_PT_requirements, TESSERA_PT_job)


def register():
    for cls in classes:
        bpy.utils.register_class(cls)


def unregister():
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
