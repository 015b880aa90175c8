from django.contrib import admin
from django.urls import path

from tongban.api import api

admin.site.site_header = "通办 · 跨省通办平台管理"
admin.site.site_title = "通办管理"
admin.site.index_title = "平台数据管理"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
