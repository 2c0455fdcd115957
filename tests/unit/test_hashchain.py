from datetime import UTC, datetime

from tkm.core.hashchain import GENESIS, ChainVerifier, digest


def _chain(n):
    prev, records = GENESIS, []
    for seq in range(1, n + 1):
        fields = {"amount": seq * 1000, "at": datetime(2020, 4, seq, tzinfo=UTC)}
        h = digest(prev, {**fields, "seq": seq})
        records.append((seq, seq, prev, h, fields))
        prev = h
    return records


def _feed(records):
    v = ChainVerifier("test")
    for r in records:
        if not v.feed(*r):
            break
    return v.broken


def test_intact_chain_verifies():
    assert _feed(_chain(5)) is None


def test_edited_record_is_named():
    records = _chain(5)
    rid, seq, prev, h, fields = records[2]
    records[2] = (rid, seq, prev, h, {**fields, "amount": 1})
    broken = _feed(records)
    assert broken is not None and broken.seq == 3 and "changed" in broken.reason


def test_removed_record_is_named():
    records = _chain(5)
    del records[1]
    broken = _feed(records)
    assert broken is not None and broken.seq == 3 and "missing" in broken.reason
