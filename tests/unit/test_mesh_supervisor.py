"""supervisord's config: a changed setting restarts only the programs that read it."""
import configparser
import os

from scripts.mesh import supervisor


def _sections(monkeypatch, **variables) -> configparser.ConfigParser:
    for name in [name for name in os.environ if name.startswith("AUTOSALON_")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(supervisor.config("/opt/consul"))
    return parser


def test_settings_reach_the_python_programs_only(monkeypatch):
    sections = _sections(monkeypatch, AUTOSALON_EVENT_RETENTION_DAYS="7",
                         AUTOSALON_EDGE_STRICT_REQUESTS="300")
    assert 'AUTOSALON_EVENT_RETENTION_DAYS="7"' in sections["program:sales"]["environment"]
    assert 'AUTOSALON_EVENT_RETENTION_DAYS="7"' in sections["program:edge-sync"]["environment"]
    assert 'AUTOSALON_EVENT_RETENTION_DAYS="7"' in sections["program:payment-gateway"]["environment"]
    for program in ("postgres", "consul", "nats", "envoy"):
        assert "environment" not in sections[f"program:{program}"]
    # The edge's settings are baked into Envoy's config by ./scripts/up, not read by a program.
    assert all("AUTOSALON_EDGE_" not in section.get("environment", "")
               for section in sections.values())


def test_the_shared_environment_does_not_depend_on_the_caller(monkeypatch):
    first = _sections(monkeypatch)["supervisord"]["environment"]
    monkeypatch.setenv("PATH", "/somewhere/else:/usr/bin")
    second = _sections(monkeypatch, AUTOSALON_EDGE_STRICT_REQUESTS="300")["supervisord"]["environment"]
    assert first == second
    assert "PATH" not in first
