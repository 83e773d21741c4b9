"""ModelSerializers; the user's names are nested under `profile`, like the other upstreams."""

from rest_framework import serializers

from tests.frameworks.drf.models import Contact, Membership, Organization, User


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "job_title",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class ProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "avatar_url"]


class UserSerializer(serializers.ModelSerializer):
    profile = ProfileSerializer(source="*", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "username", "role", "profile", "created_at", "updated_at"]


class OrganizationSerializer(serializers.ModelSerializer):
    member_count = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "member_count",
            "created_at",
            "updated_at",
        ]

    def get_member_count(self, organization: Organization) -> int:
        return organization.memberships.count()


class MembershipSerializer(serializers.ModelSerializer):
    user_id = serializers.PrimaryKeyRelatedField(source="user", queryset=User.objects.all())

    class Meta:
        model = Membership
        fields = ["id", "organization", "user_id", "role", "joined_at"]
