from django.conf import settings
from django.db import models
from django.utils import timezone

from dre.accounts import secrets


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.slug


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"  # reads
    MEMBER = "member", "Member"  # triages
    ADMIN = "admin", "Admin"  # manages keys and tokens


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"


class Project(models.Model):
    organization = models.ForeignKey(Organization, models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="project_slug_per_org")
        ]

    def __str__(self):
        return f"{self.organization.slug}/{self.slug}"


class SecretQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class SecretBase(models.Model):
    """A secret stored as its digest, with a visible prefix to tell it apart."""

    name = models.CharField(max_length=200, blank=True)
    prefix = models.CharField(max_length=secrets.PREFIX_LENGTH)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = SecretQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.prefix}… {self.name}".strip()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ProjectKey(SecretBase):
    """The device-facing secret, sent as the Memfault-Project-Key header."""

    project = models.ForeignKey(Project, models.CASCADE, related_name="keys")


class ApiToken(SecretBase):
    """A bearer token for CI (an org token, no user) or for one user's API use."""

    organization = models.ForeignKey(Organization, models.CASCADE, related_name="tokens")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="tokens"
    )

    @property
    def is_org_token(self) -> bool:
        return self.user_id is None
