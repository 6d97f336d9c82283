"""Submit the scene, fetch finished frames, check the connection.

Submit and fetch do their network work in a thread while a modal operator keeps Blender's UI
responsive and shows progress (Esc cancels). In background mode (`blender -b`, scripts, tests)
there is no event loop, so they run synchronously in execute() and report the same way.
"""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import traceback

import bpy

from . import client, settings, status

PACK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pack_copy.py")
PACK_TIMEOUT_S = 30 * 60


def make_client(context):
    if not getattr(bpy.app, "online_access", True):
        # Blender 4.2+: the artist has turned network access off for add-ons.
        raise client.TesseraError(
            "Online access is off: allow it in Preferences > System > Network"
        )
    prefs = settings.preferences(context)
    return client.Client(prefs.coordinator_url, prefs.api_key)


class Task:
    """What a running submit or fetch has to say, written by its thread, read by the UI."""

    def __init__(self, title):
        self.title = title
        self.text = "Starting"
        self.fraction = 0.0
        self.done = False
        self.error = None
        self.stopped = None
        self.result = None
        self._cancel = False

    def update(self, text, fraction=None):
        self.text = text
        if fraction is not None:
            self.fraction = fraction

    def cancel(self):
        self._cancel = True

    def cancelled(self):
        return self._cancel

    def run(self, work):
        try:
            self.result = work(self)
        except client.Cancelled as e:
            self.stopped = str(e)
        except client.TesseraError as e:
            self.error = str(e)
        except Exception as e:  # a bug of ours: say so rather than fail silently
            traceback.print_exc()
            self.error = "Tessera add-on error: %s: %s" % (type(e).__name__, e)
        finally:
            self.done = True


class _BackgroundWork:
    """Mixin: prepare() on the main thread returns work(task) for a thread; finish() reports."""

    _task = None
    _timer = None

    @classmethod
    def poll(cls, context):
        return not status.busy()

    def prepare(self, context):
        raise NotImplementedError

    def finish(self, context, result):
        raise NotImplementedError

    def _prepare(self, context):
        try:
            return self.prepare(context)
        except client.TesseraError as e:
            self.report({"ERROR"}, str(e))
            return None

    def execute(self, context):
        work = self._prepare(context)
        if work is None:
            return {"CANCELLED"}
        task = Task(self.bl_label)
        task.run(work)
        return self._finish(context, task)

    def invoke(self, context, event):
        if bpy.app.background:
            return self.execute(context)
        work = self._prepare(context)
        if work is None:
            return {"CANCELLED"}
        self._task = status.current_task = Task(self.bl_label)
        threading.Thread(target=self._task.run, args=(work,), daemon=True).start()
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.25, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC" and event.value == "PRESS":
            self._task.cancel()
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        status.redraw()
        if not self._task.done:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        status.current_task = None
        status.redraw()
        return self._finish(context, self._task)

    def _finish(self, context, task):
        if task.stopped:
            self.report({"WARNING"}, task.stopped)
            return {"CANCELLED"}
        if task.error:
            self.report({"ERROR"}, task.error)
            return {"CANCELLED"}
        return self.finish(context, task.result)


def _run_packer(blender, copy_path, task):
    """Packs the copy in a second background Blender; returns its report."""
    report_path = copy_path + ".pack.json"
    cmd = [
        blender,
        "-b",
        "--factory-startup",
        "-Y",  # the artist's scripts have no business running here
        copy_path,
        "--python-exit-code",
        "1",
        "--python",
        PACK_SCRIPT,
        "--",
        report_path,
    ]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    waited = 0.0
    while True:
        try:
            output, _ = proc.communicate(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            waited += 0.5
            if task.cancelled() or waited > PACK_TIMEOUT_S:
                proc.kill()
                proc.communicate()
                if task.cancelled():
                    raise client.Cancelled("Cancelled while packing the scene")
                raise client.TesseraError(
                    "Packing the scene took longer than %d minutes" % (PACK_TIMEOUT_S // 60)
                )
    try:
        with open(report_path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        tail = output.decode("utf-8", "replace").strip().splitlines()[-8:]
        raise client.TesseraError(
            "Packing a copy of the scene failed (Blender exit %s): %s"
            % (proc.returncode, " | ".join(tail))
        ) from None


def _mb(n):
    return n / (1024 * 1024)


class TESSERA_OT_submit(_BackgroundWork, bpy.types.Operator):
    """Send a packed copy of this scene to the Tessera farm (your file is not changed)"""

    bl_idname = "tessera.submit"
    bl_label = "Submit to Tessera"

    def prepare(self, context):
        scene = context.scene
        tessera = make_client(context)
        fields = client.job_fields(settings.job_settings(scene))
        tmp = tempfile.mkdtemp(prefix="tessera-submit-")
        name = bpy.path.basename(bpy.data.filepath) or "untitled.blend"
        copy_path = os.path.join(tmp, name)
        try:
            # A copy of what is in memory, unsaved edits included; the artist's file, its path and
            # its unsaved-changes flag stay as they are. Relative paths are remapped to the copy.
            bpy.ops.wm.save_as_mainfile(
                filepath=copy_path, copy=True, relative_remap=True, check_existing=False
            )
        except RuntimeError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            raise client.TesseraError("Could not save a copy of the scene: %s" % e) from None
        blender = bpy.app.binary_path
        scene_name = scene.name

        def work(task):
            try:
                task.update("Checking the coordinator")
                tessera.check()
                task.update("Packing external files into a copy")
                packed = _run_packer(blender, copy_path, task)
                if packed["problems"]:
                    raise client.SceneRejected(
                        "The scene cannot be sent: %s" % "; ".join(packed["problems"][:5])
                    )

                def progress(sent, total):
                    task.update(
                        "Uploading %.1f / %.1f MB" % (_mb(sent), _mb(total)),
                        sent / total if total else 1.0,
                    )
                    if sent >= total:
                        task.update("The coordinator is checking the scene", 1.0)

                view = tessera.submit(copy_path, fields, progress, task.cancelled)
                return {
                    "view": view,
                    "packed": packed,
                    "base_url": tessera.base_url,
                    "scene": scene_name,
                }
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

        return work

    def finish(self, context, result):
        view = result["view"]
        # The scene that was sent, even if the artist switched scenes during the upload.
        scene = bpy.data.scenes.get(result["scene"]) or context.scene
        scene.tessera.job_id = view["id"]
        status.remember(view["id"], view)
        progress = view.get("progress", {})
        packed = result["packed"]
        extra = []
        if packed["packed"]:
            extra.append("packed %d file(s)" % len(packed["packed"]))
        if packed["madeLocal"]:
            extra.append("made %d linked data-block(s) local" % packed["madeLocal"])
        self.report(
            {"INFO"},
            "Submitted job %s: %d frame(s), %d tile(s)%s. Follow it at %s"
            % (
                view["id"],
                progress.get("frames", {}).get("total", 0),
                progress.get("tiles", {}).get("total", 0),
                (" (" + ", ".join(extra) + ")") if extra else "",
                client.dashboard_url(result["base_url"], view["id"]),
            ),
        )
        return {"FINISHED"}


class TESSERA_OT_fetch_frames(_BackgroundWork, bpy.types.Operator):
    """Download the job's finished frames into the scene's output folder"""

    bl_idname = "tessera.fetch_frames"
    bl_label = "Fetch Frames"

    job_id: bpy.props.StringProperty(
        name="Job", description="Job to fetch (default: the scene's last submitted job)"
    )

    def prepare(self, context):
        scene = context.scene
        job_id = self.job_id or scene.tessera.job_id
        if not job_id:
            raise client.TesseraError("No job to fetch: submit the scene first")
        tessera = make_client(context)
        # Read from the scene here (main thread); the thread only talks to the coordinator.
        pattern = bpy.path.abspath(scene.render.filepath)
        if scene.render.filepath.startswith("//") and not bpy.data.filepath:
            raise client.TesseraError(
                "The output path is relative to an unsaved file: save the file or set an "
                "absolute output path (Output Properties > Output)"
            )
        use_ext = scene.render.use_file_extension

        def work(task):
            task.update("Asking for finished frames")
            view = tessera.job(job_id)
            done = client.done_frames(view)
            written = []
            for i, frame in enumerate(done):
                task.update("Frame %d (%d of %d)" % (frame, i + 1, len(done)), i / len(done))
                dest = client.frame_output_path(pattern, frame, use_ext)
                os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
                tessera.download_frame(job_id, frame, dest, task.cancelled)
                written.append(dest)
            task.update("Done", 1.0)
            return {"view": view, "written": written, "job_id": job_id}

        return work

    def finish(self, context, result):
        view, written = result["view"], result["written"]
        status.remember(result["job_id"], view)
        total = view.get("progress", {}).get("frames", {}).get("total", 0)
        if not written:
            self.report({"WARNING"}, "No finished frames yet (0 of %d)" % total)
            return {"CANCELLED"}
        folder = os.path.dirname(written[0])
        self.report(
            {"INFO"},
            "Fetched %d of %d frame(s) into %s" % (len(written), total, folder),
        )
        return {"FINISHED"}


class TESSERA_OT_check_connection(bpy.types.Operator):
    """Check the coordinator URL and the API key"""

    bl_idname = "tessera.check_connection"
    bl_label = "Check Connection"

    def execute(self, context):
        try:
            tessera = make_client(context)
            tessera.check()
        except client.TesseraError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report({"INFO"}, "Connected to %s; the API key is accepted" % tessera.base_url)
        return {"FINISHED"}


class TESSERA_OT_cancel(bpy.types.Operator):
    """Stop the running upload or download"""

    bl_idname = "tessera.cancel"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context):
        return status.busy()

    def execute(self, context):
        status.current_task.cancel()
        return {"FINISHED"}


classes = (TESSERA_OT_submit, TESSERA_OT_fetch_frames, TESSERA_OT_check_connection, TESSERA_OT_cancel)


def register():
    for cls in classes:
        bpy.utils.register_class(cls)


def unregister():
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
