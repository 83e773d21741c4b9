"""ModelViewSets with DRF's stock pagination, filtering, search and ordering."""

from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from tests.frameworks.drf.models import Contact, Membership, Organization, User
from tests.frameworks.drf.serializers import (
    ContactSerializer,
    MembershipSerializer,
    OrganizationSerializer,
    UserSerializer,
)


class ContactViewSet(viewsets.ModelViewSet):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    filterset_fields = {"id": ["in"], "updated_at": ["gt"]}
    search_fields = ["first_name", "last_name", "email", "company"]
    # first_name is deliberately not orderable: DRF then ignores `ordering=first_name`.
    ordering_fields = ["created_at", "updated_at", "last_name", "email"]


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = User.objects.order_by("-created_at", "-id")
    serializer_class = UserSerializer
    filterset_fields = {"id": ["in"], "role": ["exact"], "updated_at": ["gt"]}
    search_fields = ["email", "username", "first_name", "last_name"]
    ordering_fields = ["created_at", "updated_at", "email", "username"]

    @action(detail=False)
    def me(self, request: Request) -> Response:
        return Response(self.get_serializer(request.user).data)


class OrganizationViewSet(viewsets.ModelViewSet):
    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    filterset_fields = {"id": ["in"], "updated_at": ["gt"]}
    ordering_fields = ["created_at", "updated_at", "name"]


class MembershipViewSet(viewsets.ModelViewSet):
    queryset = Membership.objects.all()
    serializer_class = MembershipSerializer
    filterset_fields = {"organization": ["exact"], "joined_at": ["gt"], "role": ["exact"]}
    ordering_fields = ["joined_at"]
