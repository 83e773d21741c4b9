"""Load the shared dataset into the Django models, with one token per test credential."""

from rest_framework.authtoken.models import Token

from tests.frameworks import dataset
from tests.frameworks.drf.models import Contact, Membership, Organization, User

ADMIN_TOKEN = dataset.DRF_ADMIN_TOKEN
ADMIN_USER_ID = 1


def seed() -> None:
    for u in dataset.users():
        User.objects.create(
            id=u.id,
            username=u.username,
            email=u.email,
            role=u.role,
            first_name=u.first_name,
            last_name=u.last_name,
            created_at=u.created_at,
        )
    Token.objects.create(key=ADMIN_TOKEN, user_id=ADMIN_USER_ID)
    Contact.objects.bulk_create(
        Contact(
            id=c.id,
            first_name=c.first_name,
            last_name=c.last_name,
            email=c.email,
            phone=c.phone,
            company=c.company,
            job_title=c.job_title,
            created_at=c.created_at,
        )
        for c in dataset.contacts()
    )
    # auto_now cannot be set on save; bulk_update leaves it as given.
    seeds = {c.id: c for c in dataset.contacts()}
    stored = list(Contact.objects.all())
    for contact in stored:
        contact.updated_at = seeds[contact.id].updated_at
    Contact.objects.bulk_update(stored, ["updated_at"])
    for o in dataset.organizations():
        Organization.objects.create(
            id=o.id, name=o.name, slug=o.slug, description=o.description, created_at=o.created_at
        )
    Membership.objects.bulk_create(
        Membership(
            id=m.id,
            organization_id=m.organization_id,
            user_id=m.user_id,
            role=m.role,
            joined_at=m.joined_at,
        )
        for m in dataset.memberships()
    )
