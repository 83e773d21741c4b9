from django.urls import include, path
from rest_framework.routers import DefaultRouter

from tests.frameworks.drf.views import (
    ContactViewSet,
    MembershipViewSet,
    OrganizationViewSet,
    UserViewSet,
)

router = DefaultRouter()  # trailing slashes, as DRF's routers make them by default
router.register("contacts", ContactViewSet)
router.register("users", UserViewSet)
router.register("organizations", OrganizationViewSet)
router.register("memberships", MembershipViewSet)

urlpatterns = [path("api/", include(router.urls))]
