from django.core.management.base import BaseCommand, CommandError

from orders.models import Channel
from orders.services import channel_token_issue


class Command(BaseCommand):
    help = (
        "Show a channel's API keys, or issue one. Keys are stored as digests, so a key is "
        "printed only when it is issued: the first time, or with --rotate."
    )

    def add_arguments(self, parser):
        parser.add_argument("channel", help="channel code, e.g. web")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="issue a new key and revoke the old ones",
        )

    def handle(self, *args, channel, rotate, **options):
        found = Channel.objects.filter(code=channel).first()
        if found is None:
            raise CommandError(f"No channel with code {channel!r}.")
        live = found.tokens.filter(revoked_at__isnull=True)
        if live.exists() and not rotate:
            for token in live:
                self.stdout.write(
                    f"{found.code}: key {token.prefix}… issued {token.created_at:%Y-%m-%d %H:%M}"
                )
            self.stdout.write(
                "Use --rotate to issue a new key (the old ones stop working)."
            )
            return
        raw = channel_token_issue(channel=found, revoke_others=rotate)
        self.stdout.write(f"{found.code}: Authorization: Token {raw}")
