from django.contrib import admin
from django.urls import path

from tongban.api import api
from tongban.licences import pages as licence_pages
from tongban.serve import health

admin.site.site_header = "通办 · 跨省通办平台管理"
admin.site.site_title = "通办管理"
admin.site.index_title = "平台数据管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("licences/verify/", licence_pages.licence_verify, name="licence-verify"),
    # For the load balancer and the monitoring system: outside /api/v1, unauthenticated, nothing personal.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
]


def handler404(request, exception=None):
    """Under /api/ an unknown path is a problem+json like every other API error."""
    if request.path.startswith("/api/"):
        from tongban.api import problem

        return problem(request, 404, "not_found", "请求的接口不存在。")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
