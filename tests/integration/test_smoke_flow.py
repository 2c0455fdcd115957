from tests.support.factories import World


def test_smoke(api):
    w = World(api)
    app = w.new_application()
    assert app["status"] == "draft", app
    final = w.to_state(app["id"], "active")
    assert final["status"] == "active", final
    print([h["action"] for h in final["history"]])
