"""The partner clients' builds (scripts/clients): a build is skipped only while none of its
inputs changed."""
from scripts.clients.generation import Stamp


def test_a_stamp_is_fresh_until_an_input_changes(tmp_path):
    inputs = tmp_path / "examples"
    inputs.mkdir()
    (inputs / "smoke.ts").write_text("one")
    lock = tmp_path / "package-lock.json"
    lock.write_text("{}")

    def stamp() -> Stamp:
        return Stamp(tmp_path / ".fingerprint", [lock, inputs])

    assert not stamp().fresh()
    stamp().record()
    assert stamp().fresh()
    (inputs / "smoke.ts").write_text("two")
    assert not stamp().fresh()
    stamp().record()
    (inputs / "more.ts").write_text("")
    assert not stamp().fresh()
    stamp().record()
    lock.write_text('{"lockfileVersion": 3}')
    assert not stamp().fresh()


def test_the_partner_protos_count_when_asked(tmp_path):
    lock = tmp_path / "package-lock.json"
    lock.write_text("{}")
    assert Stamp(tmp_path / "a", [lock]).fingerprint != Stamp(tmp_path / "b", [lock], with_protos=True).fingerprint
