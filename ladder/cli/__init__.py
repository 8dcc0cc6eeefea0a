"""The ``ladder`` command. One module per group of subcommands, each exporting ``COMMANDS``."""
