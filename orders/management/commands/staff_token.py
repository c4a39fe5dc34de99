from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orders.staff_tokens import (
    API_SCOPES,
    StaffTokenError,
    staff_token_issue,
    staff_token_revoke,
)
from orders.token_models import StaffToken


class Command(BaseCommand):
    help = (
        "Issue an API key acting as a staff user (printed once; stored as a digest), "
        "list a user's keys, or revoke one. A key can do no more than its user."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", help="what will use the key, e.g. 'ERP sync'")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            choices=sorted(API_SCOPES),
            help="limit the key to this permission (repeatable); default: all the "
            "API's, as far as the user holds them",
        )
        parser.add_argument(
            "--expires-days", type=int, help="the key stops working after this"
        )
        parser.add_argument("--list", action="store_true", help="show the user's keys")
        parser.add_argument(
            "--revoke", metavar="PREFIX", help="revoke the user's key starting so"
        )

    def handle(self, *args, username, name, scope, expires_days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if options["list"]:
            for token in StaffToken.objects.filter(user=user):
                state = "revoked" if token.revoked_at else "live"
                self.stdout.write(
                    f"{token.prefix}…  {token.name}  {state}  "
                    f"created {token.created_at:%Y-%m-%d %H:%M}  "
                    f"scopes: {', '.join(token.scopes) or 'all'}"
                )
            return
        if options["revoke"]:
            token = StaffToken.objects.filter(
                user=user, prefix__startswith=options["revoke"]
            ).first()
            if token is None:
                raise CommandError(f"{username} has no key {options['revoke']}….")
            staff_token_revoke(token=token)
            self.stdout.write(f"Revoked {token.prefix}… ({token.name}).")
            return
        if not name:
            raise CommandError("Give the key a --name.")
        expires_at = (
            timezone.now() + timedelta(days=expires_days) if expires_days else None
        )
        try:
            token, raw = staff_token_issue(
                user=user, name=name, scopes=scope, expires_at=expires_at
            )
        except StaffTokenError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{token.name}: Authorization: Bearer {raw}")
        self.stdout.write("The key is shown only now; store it where it is used.")
