"""Tessera render farm: submit the scene from Blender, follow the job, fetch the frames.

Installs as a legacy add-on (bl_info) on Blender 3.4+ and 4.x; blender_manifest.toml beside this
file lets 4.2+ also install it as an extension.
"""

bl_info = {
    "name": "Tessera Render Farm",
    "author": "Tessera contributors",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "Properties > Render > Tessera Render Farm",
    "description": "Submit the scene to a Tessera render farm, follow the job, fetch the frames",
    "category": "Render",
}

if "operators" in locals():
    # Reload Scripts (F3 > Reload Scripts) keeps the package; reload its modules too.
    import importlib

    for _module in (client, settings, status, operators, panel):  # noqa: F821
        importlib.reload(_module)

from . import client, operators, panel, settings, status  # noqa: E402

_modules = (settings, operators, panel)


def register():
    for module in _modules:
        module.register()


def unregister():
    for module in reversed(_modules):
        module.unregister()
