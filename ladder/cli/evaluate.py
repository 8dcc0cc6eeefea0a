"""(being built)"""

COMMANDS: list = []
