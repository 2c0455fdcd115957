from datetime import UTC, datetime

from tkm.core.hashchain import GENESIS, ChainVerifier, canonical, digest


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


def _with_key(tmp_path, key):
    from tkm.core.settings import load_settings, reset_settings

    reset_settings(load_settings({"TKM_DATA_DIR": str(tmp_path), "TKM_LEDGER_KEY": key}))


def test_links_are_keyed_so_a_chain_recomputed_without_the_key_fails(tmp_path):
    import hashlib

    from tkm.core.settings import reset_settings

    try:
        _with_key(tmp_path, "k" * 40)
        records = _chain(4)
        # The attacker's chain: the same fields, plain SHA-256 links (the code is known, the key is not).
        prev, forged = GENESIS, []
        for rid, seq, _prev, _h, fields in records:
            h = hashlib.sha256(prev.encode() + b"\n" + canonical({**fields, "seq": seq})).hexdigest()
            forged.append((rid, seq, prev, h, fields))
            prev = h
        broken = _feed(forged)
        assert broken is not None and broken.seq == 1 and "hash mismatch" in broken.reason
        # Another key gives other links.
        _with_key(tmp_path, "w" * 40)
        assert _feed(records) is not None
    finally:
        reset_settings(None)


def test_links_of_before_keys_verify_up_to_keyed_from_and_not_after(tmp_path):
    from tkm.core.settings import reset_settings

    try:
        _with_key(tmp_path, "k" * 40)
        prev, records = GENESIS, []
        for seq in range(1, 6):
            fields = {"amount": seq}
            h = digest(prev, {**fields, "seq": seq}, keyed=seq >= 4)  # links 1-3 written before keys
            records.append((seq, seq, prev, h, fields))
            prev = h
        verifier = ChainVerifier("test", keyed_from=4)
        assert all(verifier.feed(*r) for r in records)
        # Claiming keys began later does not pass keyed links off as old ones, nor the reverse.
        for keyed_from in (3, 5):
            verifier = ChainVerifier("test", keyed_from=keyed_from)
            assert not all(verifier.feed(*r) for r in records)
    finally:
        reset_settings(None)
