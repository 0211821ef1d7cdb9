"""The Qt models over the desk honour the QAbstractItemModel contract."""
from __future__ import annotations

import msgspec

from supervisor.agentwin.models import INQUIRY_ID_ROLE, MineModel, PoolModel

from test_agent_state import NOW, agent, desk_for, event, inquiry


def test_pool_and_mine_models_pass_the_model_tester(qtmodeltester):
    desk = desk_for(agent(), inquiry("q1", arrived=NOW - 30), inquiry("q2", arrived=NOW - 90),
                    inquiry("m1", state="held", owner="a1", taken_at=NOW - 5))
    pool, mine = PoolModel(desk, desk.pool), MineModel(desk, desk.mine)
    qtmodeltester.check(pool)
    qtmodeltester.check(mine)
    inserted, removed = [], []
    pool.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    pool.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    q0 = inquiry("q0", arrived=NOW - 60)
    taken = msgspec.structs.replace(desk.pool.records.get("q2"), state="held", owner="a2", taken_at=NOW)
    desk.mirror.apply([event(2, "inquiry.queued", q0), event(3, "inquiry.grabbed", taken)])
    desk.apply([event(2, "inquiry.queued", q0), event(3, "inquiry.grabbed", taken)])
    pool.flush()
    mine.flush()
    assert inserted == [(1, 1)] and removed == [(0, 0)]
    assert [pool.data(pool.index(r, 0), INQUIRY_ID_ROLE) for r in range(pool.rowCount())] == ["q0", "q1"]
    qtmodeltester.check(pool)
