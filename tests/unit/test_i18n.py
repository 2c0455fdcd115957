from tkm.core import i18n


def test_language_negotiation_prefers_query_then_cookie_then_header():
    assert i18n.negotiate(None) == "id"
    assert i18n.negotiate("en-US,en;q=0.9") == "en"
    assert i18n.negotiate("fr-FR, en;q=0.5, id;q=0.8") == "id"
    assert i18n.negotiate("en", cookie="id") == "id"
    assert i18n.negotiate("en", cookie="id", query="en") == "en"
    assert i18n.negotiate("de") == "id"
    assert i18n.negotiate("en;q=abc") == "id"


def test_indonesian_catalog_translates_and_english_is_the_source():
    token = i18n.set_language("id")
    try:
        assert i18n.gettext("Log in") == "Masuk"
    finally:
        i18n.reset_language(token)
    token = i18n.set_language("en")
    try:
        assert i18n.gettext("Log in") == "Log in"
    finally:
        i18n.reset_language(token)
