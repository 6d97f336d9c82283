"""Live job status for the panel: polled in a thread while the panel is on screen.

The panel's draw() calls watch(); a bpy.app.timers callback starts one GET /api/v1/jobs/:id at a
time in a worker thread (the network never blocks the UI) and stops once the panel has not been
drawn for a while. Timers never fire in `blender -b`, where nothing is drawn anyway.
"""

import threading
import time

import bpy

from . import client

POLL_S = 3.0
FINISHED_POLL_S = 30.0
# The panel redraws at least on every poll's answer; longer without a draw means it is hidden.
HIDDEN_AFTER_S = 2 * FINISHED_POLL_S + 5

_state = {
    "job_id": None,
    "base_url": None,
    "api_key": None,
    "view": None,
    "error": None,
    "busy": False,
    "fresh": False,
    "polled_at": 0.0,
    "drawn_at": 0.0,
    "timer": False,
}
# The running submit/fetch, shown in the panel with its progress (see operators.Task).
current_task = None


def busy():
    # A task whose modal operator Blender dropped (e.g. another file was opened) still ends.
    return current_task is not None and not current_task.done


def redraw():
    wm = getattr(bpy.context, "window_manager", None)
    if wm is None:
        return
    for window in wm.windows:
        for area in window.screen.areas:
            if area.type == "PROPERTIES":
                area.tag_redraw()


def remember(job_id, view):
    """A fresh view (from a submit or fetch) is shown at once, without waiting for a poll."""
    _state.update(job_id=job_id, view=view, error=None, polled_at=time.monotonic())


def snapshot(job_id):
    if _state["job_id"] != job_id:
        return None, None
    return _state["view"], _state["error"]


def watch(job_id, base_url, api_key):
    """Called from the panel's draw(): keep polling this job while the panel is visible."""
    if bpy.app.background or not job_id:
        return
    if (_state["job_id"], _state["base_url"], _state["api_key"]) != (job_id, base_url, api_key):
        _state.update(
            job_id=job_id, base_url=base_url, api_key=api_key, view=None, error=None, polled_at=0
        )
    _state["drawn_at"] = time.monotonic()
    if not _state["timer"]:
        _state["timer"] = True
        bpy.app.timers.register(_tick, first_interval=0.1)


def _interval():
    view = _state["view"]
    return FINISHED_POLL_S if view and view.get("status") in client.FINISHED else POLL_S


def _tick():
    now = time.monotonic()
    if _state["fresh"]:
        _state["fresh"] = False  # bpy only from the main thread: the poller just flags it
        redraw()
    if now - _state["drawn_at"] > HIDDEN_AFTER_S:
        _state["timer"] = False
        return None  # the panel is hidden: stop until it is drawn again
    if not _state["busy"] and now - _state["polled_at"] >= _interval():
        _state["busy"] = True
        job_id, base_url, api_key = _state["job_id"], _state["base_url"], _state["api_key"]
        threading.Thread(target=_poll, args=(job_id, base_url, api_key), daemon=True).start()
    return 0.5


def _poll(job_id, base_url, api_key):
    view, error = None, None
    try:
        view = client.Client(base_url, api_key).job(job_id)
    except client.TesseraError as e:
        error = str(e)
    finally:
        # Only the answer for the job still shown counts.
        if _state["job_id"] == job_id:
            if view is not None:
                _state["view"] = view
            _state["error"] = error
        _state["polled_at"] = time.monotonic()
        _state["fresh"] = True
        _state["busy"] = False
