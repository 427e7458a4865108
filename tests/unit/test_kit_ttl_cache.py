"""The in-process cache never keeps a value that an eviction overtook."""
from services.kit.ttl_cache import ExpiringCache


def test_a_value_read_before_an_eviction_is_not_kept():
    cache: ExpiringCache[str] = ExpiringCache(ttl_seconds=60)
    generation = cache.generation  # a reader starts: nothing cached, off to the database
    cache.evict("user-1")          # meanwhile a change commits and evicts
    cache.put("user-1", "the row as it was before the change", generation)
    assert cache.get("user-1") is None


def test_a_value_read_in_a_quiet_moment_is_kept_until_its_time_is_up(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("services.kit.ttl_cache.time.monotonic", lambda: clock[0])
    cache: ExpiringCache[str] = ExpiringCache(ttl_seconds=30)
    cache.put("user-1", "row", cache.generation)
    assert cache.get("user-1") == "row"
    clock[0] += 31
    assert cache.get("user-1") is None


def test_it_holds_at_most_max_size_entries():
    cache: ExpiringCache[int] = ExpiringCache(ttl_seconds=60, max_size=3)
    for number in range(5):
        cache.put(number, number)
    assert [cache.get(number) for number in range(5)] == [None, None, 2, 3, 4]
