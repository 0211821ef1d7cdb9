"""The longest-waiting index: exact after every change, in any order of arrival."""
import random

from broker.arbiter.waiting import WaitOrder


def test_oldest_follows_arrivals_removals_and_late_entries():
    w = WaitOrder()
    assert w.oldest() is None and len(w) == 0
    w.add("a", 10.0)
    w.add("b", 20.0)
    w.add("c", 20.0)
    assert w.oldest() == "a"
    w.add("old", 5.0)            # put back in the pool: it keeps its earlier arrival
    assert w.oldest() == "old" and len(w) == 4
    w.remove("old", 5.0)
    assert w.oldest() == "a"
    w.remove("a", 10.0)
    w.remove("b", 20.0)
    assert w.oldest() == "c"
    w.remove("c", 20.0)
    assert w.oldest() is None and len(w) == 0
    w.add("d", 1.0)              # an empty queue takes any arrival at its in-order end
    assert w.oldest() == "d"


def test_matches_a_full_scan_under_random_changes():
    rng = random.Random(7)
    w = WaitOrder()
    queued: dict[str, float] = {}
    clock = 0.0
    for n in range(5_000):
        if queued and rng.random() < 0.5:
            inquiry_id = rng.choice(list(queued))
            w.remove(inquiry_id, queued.pop(inquiry_id))
        else:
            clock += rng.random()
            # a fifth arrive back dated (re-queued inquiries keep their arrival)
            arrived = clock - rng.random() * 50 if rng.random() < 0.2 else clock
            queued[f"q{n}"] = arrived
            w.add(f"q{n}", arrived)
        expected = min(queued, key=lambda i: (queued[i], i)) if queued else None
        assert w.oldest() == expected
        assert len(w) == len(queued)
