"""What the administration commands (``tracker-connector``, ``connection``) share: who they
act as, the models' refusals as input errors that name the options, labelled values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Final, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from issuesync.cli.home import out, program
from issuesync.errors import ConfigurationError, InvalidInputError, NotFoundError
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User

M = TypeVar("M", bound=BaseModel)


def administrator(services: Services) -> Principal:
    """Who the commands act as: the home's administrator."""
    name = services.settings.admin_user
    with services.uow_factory(readonly=True) as uow:
        user = uow.session.scalar(select(User).where(User.name == name))
        if user is None or not user.is_admin:
            raise ConfigurationError(
                f"There is no administrator '{name}' (ISSUESYNC_ADMIN_USER) in the store: set "
                f"ISSUESYNC_ADMIN_USER to an administrator's name, or run `{program()} db "
                "upgrade` to create it."
            )
        return Principal.of(user)


# The options whose names are not their fields'.
OPTION_NAMES: Final = {
    "project_id": "--project",
    "tracker_server_id": "--connector",
    "debug_mode": "--debug",
    "parent_issue": "--parent",
    "statuses": "--status",
    "name": "name",
    "alias": "alias",
}


def option_name(field: str) -> str:
    """The command-line option that gives a model's field."""
    return OPTION_NAMES.get(field, "--" + field.replace("_", "-"))


@contextmanager
def valid(what: str) -> Iterator[None]:
    """What the models refuse, as an input error naming the options to correct."""
    try:
        yield
    except ValidationError as exc:
        problems: dict[str, str] = {}
        for error in exc.errors():
            field = next((str(p) for p in reversed(error["loc"]) if isinstance(p, str)), what)
            problems[option_name(field)] = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidInputError(f"The {what} is not valid.", field_errors=problems) from exc


def validated(model: type[M], what: str, values: Mapping[str, object]) -> M:
    """``values`` as a ``model``, or an input error naming the options to correct."""
    with valid(what):
        return model.model_validate(dict(values))


@contextmanager
def listed_by(command: str) -> Iterator[None]:
    """A thing not found by its id says where the ids are listed."""
    try:
        yield
    except NotFoundError as exc:
        raise NotFoundError(f"{exc.message} See `{program()} {command}`.") from exc


def yes(value: bool) -> str:
    """A flag as a table shows it."""
    return "yes" if value else "no"


def show_pairs(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """A title, then one "label  value" line per row, the values aligned."""
    out.print(title, highlight=False)
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        out.print(f"  {label:<{width}}  {value}", highlight=False, markup=False)
