"""Rotation of the edge's access log: files shift up, the oldest beyond the count goes."""
import httpx

from services.edge.access_log import Rotation, rotate_if_due


def _rotation(tmp_path, max_bytes=10, backups=2) -> Rotation:
    return Rotation(tmp_path / "edge-access.log", max_bytes, backups, "http://127.0.0.1:1")


def test_due_only_past_the_size(tmp_path):
    rotation = _rotation(tmp_path)
    assert not rotation.due()  # no file yet
    rotation.path.write_text("x" * 10)
    assert not rotation.due()
    rotation.path.write_text("x" * 11)
    assert rotation.due()


def test_shift_keeps_the_newest_backups(tmp_path):
    rotation = _rotation(tmp_path, backups=2)
    for generation in ("first", "second", "third"):
        rotation.path.write_text(generation)
        rotation.shift()
    assert not rotation.path.exists()
    assert rotation.backup(1).read_text() == "third"
    assert rotation.backup(2).read_text() == "second"
    assert not rotation.backup(3).exists()


def test_settings_come_from_the_rendered_file(tmp_path):
    file = tmp_path / "access_log.json"
    file.write_text('{"path": "/x/edge-access.log", "max_bytes": 5, "backups": 1,'
                    ' "admin_url": "http://127.0.0.1:9901"}')
    rotation = Rotation.load(file)
    assert (rotation.max_bytes, rotation.backups) == (5, 1)
    assert rotation.backup(1).name == "edge-access.log.1"


async def test_envoy_down_leaves_the_log_renamed_and_says_so(tmp_path, caplog):
    """Envoy opens a fresh file at the path when it starts again, so a failed reopen loses nothing."""
    rotation = _rotation(tmp_path)
    rotation.path.write_text("x" * 11)
    async with httpx.AsyncClient(timeout=1) as client:
        assert not await rotate_if_due(rotation, client)
    assert rotation.backup(1).read_text() == "x" * 11
    assert "rotation incomplete" in caplog.text
