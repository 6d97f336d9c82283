"""Talks to a Tessera coordinator. No bpy here, so it runs (and is unit tested) in plain python3.

Standard library only: Blender's bundled Python has no `requests`. Uploads are multipart bodies
written by hand and streamed from disk in chunks, so a large .blend never sits in memory and the
caller can show progress.

Every error the artist may see is a TesseraError whose message can be shown as is.
"""

import http.client
import json
import os
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
import uuid

CHUNK_BYTES = 256 * 1024
# The coordinator answers a submission only after Blender has inspected the scene.
SUBMIT_TIMEOUT_S = 300
REQUEST_TIMEOUT_S = 30
# Any well-formed id: the coordinator answers 404 to a good key and 401 to a bad one.
_PROBE_JOB = "00000000-0000-0000-0000-000000000000"
VERIFICATION = ("off", "light", "standard", "paranoid")
DEVICES = ("any", "cpu", "gpu")
FINISHED = ("COMPLETED", "FAILED", "CANCELLED")


class TesseraError(Exception):
    """An error whose message is meant for the artist."""


class BadUrl(TesseraError):
    pass


class Unreachable(TesseraError):
    pass


class NotCoordinator(TesseraError):
    pass


class AuthRejected(TesseraError):
    pass


class SceneRejected(TesseraError):
    pass


class SettingsRejected(TesseraError):
    pass


class NotFound(TesseraError):
    pass


class TooLarge(TesseraError):
    pass


class ConnectionLost(TesseraError):
    pass


class ServerError(TesseraError):
    pass


class Cancelled(TesseraError):
    pass


def normalize_url(url):
    """The coordinator's base URL without a trailing slash; BadUrl when it cannot be one."""
    url = (url or "").strip().rstrip("/")
    if not url:
        raise BadUrl("No coordinator URL set (Preferences > Add-ons > Tessera)")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadUrl(
            "Coordinator URL %r is not an http(s) address, e.g. http://farm.example:8080" % url
        )
    try:
        parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise BadUrl("Coordinator URL %r has an invalid port" % url) from None
    return url


def dashboard_url(base_url, job_id):
    return "%s/dashboard/jobs/%s" % (base_url.rstrip("/"), job_id)


# ---------------------------------------------------------------------------------------------
# Job settings


_DECIMAL = re.compile(r"^[0-9]+$")
_VERSION = re.compile(r"^[0-9]+\.[0-9]+(\.[0-9]+)?$")


def job_fields(settings):
    """Multipart fields for POST /api/v1/jobs from the panel's settings (a plain dict).

    Device requirements and budget are sent only when the artist set them: coordinators that do
    not know those fields reject any request that carries them.
    """
    s = settings
    fields = []

    def add(name, value):
        fields.append((name, str(value)))

    add("frameStart", int(s["frameStart"]))
    add("frameEnd", int(s["frameEnd"]))
    add("frameStep", int(s.get("frameStep", 1)))
    if s["frameEnd"] < s["frameStart"]:
        raise SettingsRejected("The last frame comes before the first frame")
    if s.get("tiling", "grid") == "size":
        add("tileWidth", int(s["tileWidth"]))
        add("tileHeight", int(s["tileHeight"]))
    else:
        add("tilesX", int(s["tilesX"]))
        add("tilesY", int(s["tilesY"]))
    add("overlap", int(s.get("overlap", 8)))
    if s.get("samples"):
        add("samples", int(s["samples"]))
    verification = s.get("verification", "standard")
    if verification not in VERIFICATION:
        raise SettingsRejected("Verification must be one of %s" % ", ".join(VERIFICATION))
    add("verification", verification)

    device = s.get("device", "any")
    if device not in DEVICES:
        raise SettingsRejected("Device must be one of %s" % ", ".join(DEVICES))
    if device != "any":
        add("device", device)
    if s.get("minVramMb"):
        add("minVramMb", int(s["minVramMb"]))
    version = (s.get("minBlenderVersion") or "").strip()
    if version:
        if not _VERSION.match(version):
            raise SettingsRejected("Minimum Blender version must look like 3.4 or 4.2.1")
        add("minBlenderVersion", version)
    for name, label in (("budgetWei", "Budget"), ("maxPriceWei", "Max price")):
        value = (s.get(name) or "").strip()
        if value:
            if not _DECIMAL.match(value):
                raise SettingsRejected("%s must be a whole number of wei (digits only)" % label)
            add(name, value)
    return fields


# ---------------------------------------------------------------------------------------------
# Multipart body, streamed


def _quote(value):
    # Field names and file names sit inside "..." in the part headers.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace("\n", "")


class MultipartBody:
    """multipart/form-data with text fields first and one file last, read from disk in chunks."""

    def __init__(self, fields, file_field, file_path, file_name=None, boundary=None):
        self.boundary = boundary or "tessera-" + uuid.uuid4().hex
        self.file_path = file_path
        name = file_name or os.path.basename(file_path)
        head = b""
        for key, value in fields:
            head += (
                '--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n'
                % (self.boundary, _quote(key))
            ).encode("utf-8")
            head += str(value).encode("utf-8") + b"\r\n"
        head += (
            '--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
            % (self.boundary, _quote(file_field), _quote(name))
        ).encode("utf-8")
        self.head = head
        self.tail = ("\r\n--%s--\r\n" % self.boundary).encode("ascii")
        self.file_size = os.path.getsize(file_path)
        self.length = len(self.head) + self.file_size + len(self.tail)

    @property
    def content_type(self):
        return "multipart/form-data; boundary=" + self.boundary

    def chunks(self, progress=None, cancelled=None, chunk_bytes=CHUNK_BYTES):
        """Yields the body; progress(sent, total) after each chunk; Cancelled when asked to stop."""
        sent = 0

        def step(data):
            nonlocal sent
            if cancelled is not None and cancelled():
                raise Cancelled("Upload cancelled")
            sent += len(data)
            return data

        yield step(self.head)
        with open(self.file_path, "rb") as f:
            while True:
                data = f.read(chunk_bytes)
                if not data:
                    break
                yield step(data)
                if progress:
                    progress(sent, self.length)
        yield step(self.tail)
        if progress:
            progress(sent, self.length)


# ---------------------------------------------------------------------------------------------
# Errors


def _server_message(body):
    """The message of a NestJS error body ({"message": "..." or [...]}), else the text itself."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:300]
    if isinstance(data, dict):
        message = data.get("message", data.get("error", ""))
        if isinstance(message, list):
            return "; ".join(str(m) for m in message)
        return str(message)
    return text.strip()[:300]


def error_for_status(status, body, base_url="the coordinator"):
    """A TesseraError for an HTTP error answer of the coordinator."""
    message = _server_message(body)
    if status in (401, 403):
        return AuthRejected(
            "The coordinator rejected the API key (%s): check it in Preferences > Add-ons > Tessera"
            % (message or status)
        )
    if status == 422:
        message = re.sub(r"^cannot render this scene:\s*", "", message, flags=re.I)
        return SceneRejected("The coordinator cannot render this scene: %s" % message)
    if status == 400:
        return SettingsRejected("The coordinator refused the job: %s" % message)
    if status == 413:
        return TooLarge("The scene is larger than this coordinator accepts (%s)" % message)
    if status == 404:
        return NotFound(message or "Not found")
    if status >= 500:
        return ServerError("The coordinator failed (HTTP %d): %s" % (status, message))
    return TesseraError("Unexpected answer from %s: HTTP %d %s" % (base_url, status, message))


def error_for_exception(exc, base_url):
    """A TesseraError for a failure below HTTP (DNS, refused, reset, timeout, TLS)."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TesseraError):
        return reason
    if isinstance(reason, socket.gaierror):
        return Unreachable(
            "Cannot find the coordinator host of %s: check the URL in Preferences > Add-ons > Tessera"
            % base_url
        )
    if isinstance(reason, ConnectionRefusedError):
        return Unreachable(
            "Nothing answers at %s (connection refused): check the coordinator URL in "
            "Preferences > Add-ons > Tessera and that the coordinator is running" % base_url
        )
    if isinstance(reason, ssl.SSLError):
        return BadUrl("TLS failed with %s: %s" % (base_url, reason))
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return ConnectionLost("The coordinator at %s stopped answering (timed out)" % base_url)
    if isinstance(reason, (OSError, http.client.HTTPException, EOFError)):
        return ConnectionLost(
            "Lost the connection to the coordinator at %s: %s"
            % (base_url, str(reason) or type(reason).__name__)
        )
    return TesseraError("Request to %s failed: %s" % (base_url, reason))


# ---------------------------------------------------------------------------------------------
# Client


def _tls_context():
    # Blender's own Python may not find the system's CA certificates; certifi, where bundled, has.
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:
        return ssl.create_default_context()


class Client:
    def __init__(self, base_url, api_key, timeout=REQUEST_TIMEOUT_S):
        self.base_url = normalize_url(base_url)
        self.api_key = (api_key or "").strip()
        self.timeout = timeout

    def _open(self, method, path, data=None, headers=None, timeout=None, auth=True):
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        if auth:
            req.add_header("Authorization", "Bearer " + self.api_key)
        tls = _tls_context() if self.base_url.startswith("https:") else None
        try:
            return urllib.request.urlopen(req, timeout=timeout or self.timeout, context=tls)
        except urllib.error.HTTPError as e:
            try:
                body = e.read()
            except Exception:  # the body is only for the message
                body = b""
            raise error_for_status(e.code, body, self.base_url) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            raise error_for_exception(e, self.base_url) from None

    def _json(self, method, path, **kw):
        with self._open(method, path, **kw) as res:
            try:
                return json.loads(res.read().decode("utf-8"))
            except (OSError, http.client.HTTPException) as e:
                raise error_for_exception(e, self.base_url) from None
            except ValueError:
                raise NotCoordinator(
                    "%s answered with something that is not JSON: is it a Tessera coordinator?"
                    % self.base_url
                ) from None

    def check(self):
        """Fails with a clear error unless the URL is a Tessera coordinator that takes our key."""
        try:
            health = self._json("GET", "/api/v1/health", auth=False)
        except NotFound:
            health = None
        if not isinstance(health, dict) or health.get("ok") is not True:
            raise NotCoordinator(
                "%s is not a Tessera coordinator (no /api/v1/health): check the URL in "
                "Preferences > Add-ons > Tessera" % self.base_url
            )
        if not self.api_key:
            raise AuthRejected("No API key set (Preferences > Add-ons > Tessera)")
        try:
            self._json("GET", "/api/v1/jobs/" + _PROBE_JOB)
        except NotFound:
            pass  # the key was accepted; the job, of course, does not exist

    def submit(self, blend_path, fields, progress=None, cancelled=None):
        """POST /api/v1/jobs with the .blend streamed from disk; returns the job view."""
        body = MultipartBody(fields, "scene", blend_path)
        headers = {"Content-Type": body.content_type, "Content-Length": str(body.length)}
        return self._json(
            "POST",
            "/api/v1/jobs",
            data=body.chunks(progress, cancelled),
            headers=headers,
            timeout=SUBMIT_TIMEOUT_S,
        )

    def job(self, job_id):
        try:
            return self._json("GET", "/api/v1/jobs/" + urllib.parse.quote(job_id, safe=""))
        except NotFound:
            raise NotFound("The coordinator has no job %s for this API key" % job_id) from None

    def download_frame(self, job_id, frame, dest_path, cancelled=None):
        """GET /api/v1/jobs/:id/frames/:frame into dest_path (written whole or not at all)."""
        path = "/api/v1/jobs/%s/frames/%d" % (urllib.parse.quote(job_id, safe=""), frame)
        tmp = dest_path + ".part"
        try:
            with self._open("GET", path) as res, open(tmp, "wb") as out:
                while True:
                    if cancelled is not None and cancelled():
                        raise Cancelled("Download cancelled")
                    data = res.read(CHUNK_BYTES)
                    if not data:
                        break
                    out.write(data)
            os.replace(tmp, dest_path)
        except (OSError, http.client.HTTPException) as e:
            raise error_for_exception(e, self.base_url) from None
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return dest_path


# ---------------------------------------------------------------------------------------------
# What the panel shows


# Blender's known image extensions (imb_ext_image): replaced, not appended to, in output names.
_IMAGE_EXTENSIONS = (
    ".png", ".tga", ".bmp", ".jpg", ".jpeg", ".sgi", ".rgb", ".rgba", ".tif", ".tiff", ".tx",
    ".jp2", ".j2c", ".hdr", ".dds", ".dpx", ".cin", ".exr", ".psd", ".pdd", ".psb", ".webp",
)


def frame_output_path(pattern, frame, use_file_extension=True, extension=".png"):
    """The name Blender gives frame `frame` for the absolute output path `pattern`.

    Same rules as Blender's own (BLI_path_frame, image_path_ensure_ext): the last run of '#' in
    the file name becomes the zero-padded frame number, four digits are appended when the file
    name has none, and the extension replaces a known image extension or is appended.
    """
    cut = max(pattern.rfind("/"), pattern.rfind("\\")) + 1
    folder, name = pattern[:cut], pattern[cut:]
    if "#" not in name:
        name += "####"
    end = name.rfind("#") + 1
    start = end
    while start > 0 and name[start - 1] == "#":
        start -= 1
    digits = end - start
    number = ("-" if frame < 0 else "") + str(abs(frame)).zfill(digits)  # C's "%.*d"
    path = folder + name[:start] + number + name[end:]
    if use_file_extension:
        root, ext = os.path.splitext(path)
        if ext.lower() in _IMAGE_EXTENSIONS:
            path = root + extension
        elif not path.endswith(extension):
            path = path.rstrip(".") + extension
    return path


def done_frames(view):
    return [f["number"] for f in view.get("frames", []) if f.get("status") == "DONE"]


def format_wei(value):
    """Wei (int or decimal string) as ETH, e.g. 12500000000000000 -> '0.0125 ETH'."""
    wei = int(value)
    whole, frac = divmod(wei, 10**18)
    text = ("%d.%018d" % (whole, frac)).rstrip("0").rstrip(".")
    return text + " ETH"


def _cost_line(view):
    # GET /api/v1/jobs/:id: {"cost": {"renderMs": n, "wei": "..." or null without payouts}}
    wei = (view.get("cost") or {}).get("wei")
    if wei is None:
        return None
    try:
        return format_wei(wei)
    except (TypeError, ValueError):
        return None


def _duration(ms):
    seconds = int(round(ms / 1000.0))
    if seconds < 90:
        return "%d s" % seconds
    if seconds < 90 * 60:
        return "%d min" % round(seconds / 60.0)
    return "%.1f h" % (seconds / 3600.0)


def describe_job(view):
    """Short lines for the panel: status, frames, tiles, render time, cost."""
    progress = view.get("progress", {})
    frames = progress.get("frames", {})
    tiles = progress.get("tiles", {})
    lines = [
        "Status: %s" % view.get("status", "?").lower(),
        "Frames: %d / %d done" % (frames.get("done", 0), frames.get("total", 0)),
        "Tiles: %d / %d done (%d%%)"
        % (tiles.get("done", 0), tiles.get("total", 0), progress.get("percent", 0)),
    ]
    # check renders still to be decided: a job whose frames are all done waits for them
    checks = progress.get("checksOpen") or 0
    if checks and view.get("status") not in FINISHED:
        lines.append("Verifying: %d check render%s open" % (checks, "" if checks == 1 else "s"))
    render_ms = (view.get("timings") or {}).get("renderMs") or (view.get("cost") or {}).get(
        "renderMs"
    )
    if render_ms:
        lines.append("Render time: %.1f s" % (render_ms / 1000.0))
    if view.get("etaMs") and view.get("status") not in FINISHED:
        lines.append("Time left: about %s" % _duration(view["etaMs"]))
    cost = _cost_line(view)
    if cost:
        lines.append("Cost: %s" % cost)
    if view.get("error"):
        lines.append("Error: %s" % view["error"])
    return lines
