"""A base for management commands whose help is translated."""

from django.core.management.base import BaseCommand


class TranslatedCommand(BaseCommand):
    """BaseCommand with a lazily translated `help`: argparse wraps the text with a regular expression,
    which needs a real string, so the translation is made when the parser is."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)
