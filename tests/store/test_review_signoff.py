"""Sign-off: once, by a clinician, of a finished session; after it the record is read-only."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from dashboard.store import Store
from dashboard.store.signoff import SignOffError, is_signed, sign_off, signoff_of, signoffs

from ..review_sessions import recorded_session


def test_sign_off_once_of_a_finished_session(tmp_path):
    store = Store.open(tmp_path / "clinic.db")
    sid = recorded_session(store)
    open_sid = store.create_session(chair="Chair 1", patient_label="P-9", protocol="iv-ketamine", started_at=1.0)
    assert not is_signed(store, sid)
    with pytest.raises(SignOffError, match="still open"):
        sign_off(store, open_sid, "dr-a")
    with pytest.raises(SignOffError, match="no session 999"):
        sign_off(store, 999, "dr-a")
    with pytest.raises(SignOffError, match="name"):
        sign_off(store, sid, "  ")
    signed = sign_off(store, sid, " dr-a ", " reviewed, BP managed ", at=1234.5)
    assert signed.clinician == "dr-a" and signed.comment == "reviewed, BP managed"
    assert signoff_of(store, sid) == signed and is_signed(store, sid)
    with pytest.raises(SignOffError, match="already signed"):
        sign_off(store, sid, "dr-b")


def test_the_store_makes_the_table_and_a_database_without_it_reads_as_unsigned(tmp_path):
    store = Store.open(tmp_path / "clinic.db")
    sid = recorded_session(store)
    assert sa.inspect(store.engine).has_table("signoffs")  # from the migrations
    signoffs.drop(store.engine)
    assert signoff_of(store, sid) is None
