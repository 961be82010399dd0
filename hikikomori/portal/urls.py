from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import path
from django.views.generic import RedirectView

from hikikomori.portal import api, views

urlpatterns = [
    path("login", views.PortalLoginView.as_view(), name="login"),
    path("logout", LogoutView.as_view(), name="logout"),
    path("password", views.PortalPasswordChangeView.as_view(), name="password"),
    path("", views.home, name="home"),
    path("upload", views.upload, name="upload"),
    path("years/<int:fiscal_year>", views.year, name="year"),
    path("years/<int:fiscal_year>/form.xlsx", views.template_download, name="template"),
    path("uploads/<uuid:upload_id>", views.upload_detail, name="upload_detail"),
    path("uploads/<uuid:upload_id>/comment", views.upload_comment, name="upload_comment"),
    path("uploads/<uuid:upload_id>/file", views.upload_file, name="upload_file"),
    path("uploads/<uuid:upload_id>/errors.csv", views.upload_errors, name="upload_errors"),
    path("uploads/<uuid:upload_id>/receipt.txt", views.upload_receipt, name="upload_receipt"),
    path("ministry", views.ministry_overview, name="ministry"),
    path("ministry/centers/<str:center_code>", views.ministry_center, name="ministry_center"),
    path(
        "ministry/centers/<str:center_code>/years/<int:fiscal_year>/changes",
        views.ministry_changes,
        name="ministry_changes",
    ),
    path("ministry/national", views.ministry_national, name="ministry_national"),
    path("api/v1/submissions", api.submissions, name="api_submissions"),
    path("admin/", admin.site.urls),
    # Browsers ask for it on pages without an icon link (the admin's): the portal's own icon.
    path("favicon.ico", RedirectView.as_view(url="/static/portal/favicon.svg", permanent=True)),
]

handler400 = "hikikomori.portal.views.bad_request"
handler403 = "hikikomori.portal.views.forbidden"
handler404 = "hikikomori.portal.views.not_found"
handler500 = "hikikomori.portal.views.server_error"
