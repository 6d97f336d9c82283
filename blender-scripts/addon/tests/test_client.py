"""Unit tests of the add-on's coordinator client (no Blender needed).

Run: python3 -m unittest discover -s blender-scripts/addon/tests
The HTTP tests use a small local server that plays the coordinator's part.
"""

import email.parser
import email.policy
import http.server
import json
import os
import socket
import struct
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tessera"))
import client  # noqa: E402


def parse_multipart(content_type, body):
    """Parts of a multipart/form-data body as {name: (filename, bytes)}, via the email parser."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    assert message.is_multipart(), "not a multipart body"
    parts = {}
    for part in message.iter_parts():
        parts[part.get_param("name", header="content-disposition")] = (
            part.get_filename(),
            part.get_payload(decode=True),
        )
    return parts


class FakeCoordinator:
    """A local HTTP server; `routes[(method, path)]` answers with (status, body) or a callable."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake.requests.append((self.command, self.path, dict(self.headers), body))
                route = fake.routes.get((self.command, self.path))
                if route is None:
                    status, payload = 404, b"<html>Not Found</html>"
                elif callable(route):
                    result = route(self, body)
                    if result is None:
                        return  # the route wrote (or dropped) the answer itself
                    status, payload = result
                else:
                    status, payload = route
                if not isinstance(payload, bytes):
                    payload = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _handle
            do_POST = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempFiles(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def file(self, name, data):
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


class MultipartBodyTest(TempFiles):
    def test_round_trips_fields_and_file_through_a_multipart_parser(self):
        data = os.urandom(100_000)
        path = self.file("shot 1.blend", data)
        body = client.MultipartBody([("frameStart", "3"), ("verification", "off")], "scene", path)
        seen = []
        raw = b"".join(body.chunks(lambda sent, total: seen.append((sent, total)), chunk_bytes=4096))
        self.assertEqual(len(raw), body.length)
        parts = parse_multipart(body.content_type, raw)
        self.assertEqual(parts["frameStart"], (None, b"3"))
        self.assertEqual(parts["verification"], (None, b"off"))
        self.assertEqual(parts["scene"], ("shot 1.blend", data))
        # progress: per chunk of the file, never backwards, ending at the whole length
        self.assertGreater(len(seen), 20)
        self.assertEqual([s for s, _ in seen], sorted(s for s, _ in seen))
        self.assertEqual(seen[-1], (body.length, body.length))

    def test_quotes_in_the_file_name_cannot_break_the_part_header(self):
        path = self.file('a"b.blend', b"BLENDER")
        body = client.MultipartBody([], "scene", path)
        parts = parse_multipart(body.content_type, b"".join(body.chunks()))
        self.assertEqual(parts["scene"][1], b"BLENDER")
        self.assertNotIn('"b.blend', parts["scene"][0] or "")

    def test_stops_when_cancelled(self):
        path = self.file("s.blend", os.urandom(50_000))
        body = client.MultipartBody([], "scene", path)
        chunks = body.chunks(cancelled=lambda: True, chunk_bytes=1024)
        with self.assertRaises(client.Cancelled):
            list(chunks)


class JobFieldsTest(unittest.TestCase):
    BASE = {
        "frameStart": 1,
        "frameEnd": 10,
        "frameStep": 1,
        "tiling": "grid",
        "tilesX": 2,
        "tilesY": 3,
        "tileWidth": 256,
        "tileHeight": 256,
        "overlap": 8,
        "samples": None,
        "verification": "standard",
        "device": "any",
        "minVramMb": 0,
        "minBlenderVersion": "",
        "budgetWei": "",
        "maxPriceWei": "",
    }

    def fields(self, **changes):
        return dict(client.job_fields(dict(self.BASE, **changes)))

    def test_defaults_send_only_fields_every_coordinator_knows(self):
        self.assertEqual(
            self.fields(),
            {
                "frameStart": "1",
                "frameEnd": "10",
                "frameStep": "1",
                "tilesX": "2",
                "tilesY": "3",
                "overlap": "8",
                "verification": "standard",
            },
        )

    def test_requirements_and_budget_are_sent_when_set(self):
        f = self.fields(
            device="gpu",
            minVramMb=8000,
            minBlenderVersion="4.2",
            budgetWei="1000000000000000000",
            maxPriceWei="25",
            samples=64,
        )
        self.assertEqual(f["device"], "gpu")
        self.assertEqual(f["minVramMb"], "8000")
        self.assertEqual(f["minBlenderVersion"], "4.2")
        self.assertEqual(f["budgetWei"], "1000000000000000000")
        self.assertEqual(f["maxPriceWei"], "25")
        self.assertEqual(f["samples"], "64")

    def test_tile_size_replaces_the_grid(self):
        f = self.fields(tiling="size", tileWidth=128, tileHeight=64)
        self.assertEqual((f["tileWidth"], f["tileHeight"]), ("128", "64"))
        self.assertNotIn("tilesX", f)

    def test_refuses_what_the_coordinator_would(self):
        for bad in (
            {"budgetWei": "1.5"},
            {"maxPriceWei": "-3"},
            {"minBlenderVersion": "four"},
            {"device": "tpu"},
            {"verification": "strict"},
            {"frameStart": 5, "frameEnd": 2},
        ):
            with self.subTest(bad=bad), self.assertRaises(client.SettingsRejected):
                self.fields(**bad)


class ErrorMappingTest(unittest.TestCase):
    def test_http_statuses_become_messages_for_the_artist(self):
        nest = lambda status, message: json.dumps(  # noqa: E731
            {"statusCode": status, "message": message, "error": "x"}
        ).encode()
        cases = [
            (401, nest(401, "unknown or revoked API key"), client.AuthRejected, "API key"),
            (403, b"", client.AuthRejected, "API key"),
            (422, nest(422, "the scene has no camera"), client.SceneRejected, "no camera"),
            (
                422,
                nest(422, "cannot render this scene: no camera"),
                client.SceneRejected,
                "cannot render this scene: no camera",
            ),
            (400, nest(400, ["overlap must be positive", "x"]), client.SettingsRejected, "overlap"),
            (413, nest(413, "File too large"), client.TooLarge, "larger"),
            (404, nest(404, "no such job"), client.NotFound, "no such job"),
            (502, b"<html>bad gateway</html>", client.ServerError, "502"),
        ]
        for status, body, kind, words in cases:
            with self.subTest(status=status):
                error = client.error_for_status(status, body)
                self.assertIsInstance(error, kind)
                self.assertIn(words, str(error))

    def test_network_failures_become_messages_for_the_artist(self):
        import http.client as hc
        import urllib.error

        url = "http://farm:8080"
        cases = [
            (urllib.error.URLError(socket.gaierror(-2, "Name unknown")), client.Unreachable),
            (urllib.error.URLError(ConnectionRefusedError(111, "refused")), client.Unreachable),
            (urllib.error.URLError(ConnectionResetError(104, "reset")), client.ConnectionLost),
            (hc.RemoteDisconnected("closed"), client.ConnectionLost),
            (socket.timeout("timed out"), client.ConnectionLost),
        ]
        for exc, kind in cases:
            with self.subTest(exc=exc):
                error = client.error_for_exception(exc, url)
                self.assertIsInstance(error, kind)
                self.assertIn(url, str(error))

    def test_urls(self):
        self.assertEqual(client.normalize_url(" http://farm:8080/ "), "http://farm:8080")
        for bad in ("", "farm:8080", "ftp://farm", "http://", "http://farm:port"):
            with self.subTest(url=bad), self.assertRaises(client.BadUrl):
                client.normalize_url(bad)
        self.assertEqual(
            client.dashboard_url("http://farm:8080", "abc"), "http://farm:8080/dashboard/jobs/abc"
        )


class ClientTest(TempFiles):
    def setUp(self):
        super().setUp()
        self.server = FakeCoordinator()
        self.addCleanup(self.server.close)
        self.server.routes[("GET", "/api/v1/health")] = (200, {"ok": True})

    def client(self, key="tsk_good"):
        return client.Client(self.server.url, key)

    def test_submit_streams_the_scene_with_the_settings_and_the_key(self):
        data = os.urandom(700_000)
        path = self.file("shot.blend", data)
        self.server.routes[("POST", "/api/v1/jobs")] = (201, {"id": "j1", "status": "RENDERING"})
        seen = []
        view = self.client().submit(
            path, [("tilesX", "2")], progress=lambda s, t: seen.append((s, t))
        )
        self.assertEqual(view["id"], "j1")
        method, path_, headers, body = self.server.requests[-1]
        self.assertEqual(headers["Authorization"], "Bearer tsk_good")
        parts = parse_multipart(headers["Content-Type"], body)
        self.assertEqual(parts["tilesX"], (None, b"2"))
        self.assertEqual(parts["scene"], ("shot.blend", data))
        self.assertEqual(seen[-1][0], seen[-1][1])
        self.assertGreaterEqual(len(seen), 3)

    def test_check_accepts_a_coordinator_that_takes_the_key(self):
        self.server.routes[("GET", "/api/v1/jobs/" + client._PROBE_JOB)] = (
            404,
            {"statusCode": 404, "message": "no such job"},
        )
        self.client().check()

    def test_check_reports_a_rejected_key(self):
        self.server.routes[("GET", "/api/v1/jobs/" + client._PROBE_JOB)] = (
            401,
            {"statusCode": 401, "message": "unknown or revoked API key"},
        )
        with self.assertRaisesRegex(client.AuthRejected, "unknown or revoked API key"):
            self.client("tsk_wrong").check()

    def test_check_reports_a_server_that_is_not_a_coordinator(self):
        del self.server.routes[("GET", "/api/v1/health")]
        with self.assertRaisesRegex(client.NotCoordinator, "not a Tessera coordinator"):
            self.client().check()
        self.server.routes[("GET", "/api/v1/health")] = (200, b"<html>hello</html>")
        with self.assertRaises(client.NotCoordinator):
            self.client().check()

    def test_nothing_listening_is_reported_as_a_wrong_url(self):
        c = client.Client("http://127.0.0.1:%d" % free_port(), "k")
        with self.assertRaisesRegex(client.Unreachable, "connection refused"):
            c.check()

    def test_a_dropped_connection_is_reported_as_lost(self):
        def drop(handler, _body):
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)

        self.server.routes[("GET", "/api/v1/jobs/j1")] = drop
        with self.assertRaisesRegex(client.ConnectionLost, "Lost the connection"):
            self.client().job("j1")

    def test_a_connection_dropped_during_the_upload_is_reported_as_lost(self):
        # A raw server that reads a little of the upload, then resets the connection.
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        self.addCleanup(listener.close)

        def serve():
            conn, _ = listener.accept()
            conn.recv(65536)
            # linger on, timeout 0: close() sends a reset, like a proxy or server that died
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

        threading.Thread(target=serve, daemon=True).start()
        path = self.file("big.blend", b"\0" * (16 * 1024 * 1024))
        c = client.Client("http://127.0.0.1:%d" % listener.getsockname()[1], "k")
        sent = []
        with self.assertRaisesRegex(client.ConnectionLost, "Lost the connection"):
            c.submit(path, [], progress=lambda s, t: sent.append(s))
        self.assertLess(max(sent, default=0), 16 * 1024 * 1024)  # it broke off mid-upload

    def test_a_scene_the_coordinator_refuses_reports_its_reason(self):
        path = self.file("s.blend", b"BLENDER-v304")
        self.server.routes[("POST", "/api/v1/jobs")] = (
            422,
            {"statusCode": 422, "message": "scene has no camera"},
        )
        with self.assertRaisesRegex(client.SceneRejected, "scene has no camera"):
            self.client().submit(path, [])

    def test_download_frame_writes_the_file_whole_or_not_at_all(self):
        png = b"\x89PNG" + os.urandom(600_000)
        self.server.routes[("GET", "/api/v1/jobs/j1/frames/3")] = (200, png)
        self.server.routes[("GET", "/api/v1/jobs/j1/frames/4")] = (
            404,
            {"statusCode": 404, "message": "frame 4 is not finished yet"},
        )
        dest = os.path.join(self.tmp.name, "frame_0003.png")
        self.client().download_frame("j1", 3, dest)
        with open(dest, "rb") as f:
            self.assertEqual(f.read(), png)
        missing = os.path.join(self.tmp.name, "frame_0004.png")
        with self.assertRaisesRegex(client.NotFound, "not finished"):
            self.client().download_frame("j1", 4, missing)
        self.assertEqual(sorted(os.listdir(self.tmp.name)), ["frame_0003.png"])


class FrameOutputPathTest(unittest.TestCase):
    # Blender's own names for these patterns (the e2e test compares with frame_path in Blender).
    def test_names_frames_like_blender(self):
        cases = {
            "/r/frames/frame_####": "/r/frames/frame_0012.png",
            "/r/out/": "/r/out/0012.png",
            "/r/shot_##_v2": "/r/shot_12_v2.png",
            "/r/a#/b": "/r/a#/b0012.png",
            "/r/x.jpg": "/r/x.jpg0012.png",
            "/r/f.": "/r/f.0012.png",
            "/r/f_####.exr": "/r/f_0012.png",
        }
        for pattern, name in cases.items():
            with self.subTest(pattern=pattern):
                self.assertEqual(client.frame_output_path(pattern, 12), name)
        self.assertEqual(client.frame_output_path("/r/f_##", 123456), "/r/f_123456.png")
        self.assertEqual(client.frame_output_path("/r/f_####", -3), "/r/f_-0003.png")
        self.assertEqual(client.frame_output_path("/r/f_####", 7, False), "/r/f_0007")


class DescribeJobTest(unittest.TestCase):
    # The shape of GET /api/v1/jobs/:id (apps/coordinator/src/jobs/job-view.ts, toJobView),
    # trimmed to one frame of tiles; the payouts e2e test runs describe_job on the real thing.
    VIEW = {
        "id": "0b7e6a52-6f1e-4d43-9d5e-3f1c2a7b9e10",
        "status": "RENDERING",
        "error": None,
        "settings": {"frameStart": 1, "frameEnd": 4, "tilesX": 2, "tilesY": 2},
        "scene": {"samples": 16},
        "createdAt": "2026-01-01T00:00:00.000Z",
        "plannedAt": "2026-01-01T00:00:02.000Z",
        "completedAt": None,
        "progress": {
            "frames": {"total": 4, "done": 1},
            "tiles": {"total": 16, "done": 6},
            "percent": 38,
            "checksOpen": 0,
        },
        "payment": {
            "state": "FUNDED",
            "priceWei": "1000000000000000",
            "budgetWei": None,
            "depositWei": "20000000000000000",
            "fundedWei": "20000000000000000",
            "note": None,
            "quote": "/api/v1/jobs/0b7e6a52-6f1e-4d43-9d5e-3f1c2a7b9e10/quote",
            "ledger": "/api/v1/jobs/0b7e6a52-6f1e-4d43-9d5e-3f1c2a7b9e10/payouts",
        },
        "timings": {"wallMs": None, "renderMs": 12500},
        "etaMs": 125000,
        "cost": {"renderMs": 14000, "wei": "12500000000000000"},
        "frames": [
            {
                "number": 1,
                "status": "DONE",
                "completedAt": "2026-01-01T00:00:30.000Z",
                "image": "/api/v1/jobs/0b7e6a52-6f1e-4d43-9d5e-3f1c2a7b9e10/frames/1",
                "tiles": [],
            },
            {
                "number": 2,
                "status": "RENDERING",
                "completedAt": None,
                "image": None,
                "tiles": [],
            },
        ],
    }

    def test_lines_for_the_panel(self):
        view = self.VIEW
        self.assertEqual(
            client.describe_job(view),
            [
                "Status: rendering",
                "Frames: 1 / 4 done",
                "Tiles: 6 / 16 done (38%)",
                "Render time: 12.5 s",
                "Time left: about 2 min",
                "Cost: 0.0125 ETH",
            ],
        )
        # finished, on a farm without payouts: no ETA (null) and no price (wei null)
        finished = dict(
            view,
            status="COMPLETED",
            timings={"wallMs": 40000, "renderMs": 3000},
            etaMs=None,
            cost={"renderMs": 3000, "wei": None},
        )
        self.assertEqual(client.describe_job(finished)[3:], ["Render time: 3.0 s"])
        self.assertEqual(client.done_frames(view), [1])

    def test_checks_the_job_waits_for(self):
        # every frame done, two check renders still to be decided: the job is still rendering
        progress = dict(self.VIEW["progress"], frames={"total": 4, "done": 4}, checksOpen=2)
        view = dict(self.VIEW, progress=progress)
        self.assertIn("Verifying: 2 check renders open", client.describe_job(view))
        one = dict(view, progress=dict(progress, checksOpen=1))
        self.assertIn("Verifying: 1 check render open", client.describe_job(one))
        done = dict(view, status="COMPLETED", progress=dict(progress, checksOpen=0))
        self.assertFalse([l for l in client.describe_job(done) if l.startswith("Verifying")])

    def test_format_wei(self):
        self.assertEqual(client.format_wei("1000000000000000000"), "1 ETH")
        self.assertEqual(client.format_wei(0), "0 ETH")
        self.assertEqual(client.format_wei(1), "0.000000000000000001 ETH")


if __name__ == "__main__":
    unittest.main()
