"""The API documents itself: OpenAPI at /api/v1/openapi.json and a docs page from vendored assets."""

from django.test import Client

PATHS = {
    "/api/v1/auth/token": {"post"},
    "/api/v1/me": {"get"},
    "/api/v1/regions": {"get"},
    "/api/v1/items": {"get"},
    "/api/v1/items/{code}": {"get"},
    "/api/v1/cases": {"get", "post"},
    "/api/v1/cases/{case_no}": {"get"},
    "/api/v1/cases/{case_no}/actions": {"post"},
    "/api/v1/cases/{case_no}/materials": {"post"},
    "/api/v1/cases/{case_no}/supplements": {"post"},
}


def test_openapi_lists_every_path():
    spec = Client().get("/api/v1/openapi.json").json()
    for path, methods in PATHS.items():
        assert methods <= set(spec["paths"][path]), path


def test_docs_page_uses_local_assets_only():
    page = Client().get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert Client().get("/static/ninja/swagger-ui-bundle.js").status_code == 200
