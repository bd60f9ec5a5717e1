"""One module per ``python -m release`` command, each the thin driver of its command.

``release.cli`` loads them (and nothing below imports them); a command module may call
another command's step when the command is made of steps (``release`` and ``rehearse`` run
build, upload and verify). What several commands share lives in :mod:`.context` (the loaded,
checked context) and :mod:`.checks` (rules, plans, credentials checked offline, provenance).
"""
