"""Advisory locks keep a source to one poller at a time across replicas."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from storage.db import make_engine, session_scope
from storage.locks import lock_key, source_lock, try_xact_lock


def test_lock_key_is_stable_and_distinct() -> None:
    assert lock_key("tinhuy") == lock_key("tinhuy")
    assert lock_key("tinhuy") != lock_key("sokhcn")
    assert -(2**63) <= lock_key("x") < 2**63


def test_sqlite_locks_are_always_granted(sqlite_engine: Engine) -> None:
    with source_lock(sqlite_engine, "a") as first, source_lock(sqlite_engine, "a") as second:
        assert first and second
    with session_scope(sqlite_engine) as session:
        assert try_xact_lock(session, name="a")


ONLY_POSTGRES = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


@pytest.mark.postgres
@ONLY_POSTGRES
def test_session_lock_excludes_a_second_connection(engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"
    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with source_lock(engine, "tinhuy") as first:
            assert first
            with source_lock(other, "tinhuy") as second:
                assert not second
            with source_lock(other, "sokhcn") as unrelated:
                assert unrelated
        with source_lock(other, "tinhuy") as after_release:
            assert after_release
    finally:
        other.dispose()


@pytest.mark.postgres
@ONLY_POSTGRES
def test_transaction_lock_ends_with_the_transaction(engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"
    with session_scope(engine) as first:
        assert try_xact_lock(first, name="tinhuy")
        with session_scope(engine) as second:
            assert not try_xact_lock(second, name="tinhuy")
    with session_scope(engine) as third:
        assert try_xact_lock(third, name="tinhuy")
