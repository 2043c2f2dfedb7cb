"""Account administration from the command line.

`python -m backend.accounts create-admin --email E --name N` (password from $ADMIN_PASSWORD or a prompt).
"""

from __future__ import annotations

import argparse
import getpass
import sys

import database
from backend.accounts.errors import AccountError
from backend.accounts.passwords import PASSWORD_POLICY
from backend.accounts.users import STAFF_ROLES, register
from backend.core.settings import get_settings, run_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.accounts")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create an admin account (password: $ADMIN_PASSWORD or prompt)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=STAFF_ROLES, default="admin")
    args = parser.parse_args(argv)

    configured = get_settings().admin_password
    password = configured.get_secret_value() if configured else getpass.getpass(f"Password ({PASSWORD_POLICY}): ")
    try:
        user = register(database.get_engine(), args.email, args.name, password, role=args.role)
    except AccountError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"{user.role} {user.email} created (user_id {user.user_id})")
    return 0


if __name__ == "__main__":
    run_cli(main)
