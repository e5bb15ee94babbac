"""Domain errors: raised by services, mapped once to HTTP for the API and once for HTML pages.

Each carries a machine code, a translated message and, for bad input, the
messages per field, so that both edges can show the rule that was broken.
"""

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    status = 400
    code = "error"
    default_message = _("The request cannot be carried out.")

    def __init__(self, message=None, *, fields: dict[str, list[str]] | None = None, code: str | None = None):
        self.message = str(message or self.default_message)
        self.fields = {name: [str(m) for m in messages] for name, messages in (fields or {}).items()}
        if code:
            self.code = code
        super().__init__(self.message)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields}


class InvalidInput(ApplicationError):
    status = 400
    code = "invalid"
    default_message = _("Some fields are not valid.")

    @classmethod
    def from_validation_error(cls, error) -> "InvalidInput":
        """Wrap a django ValidationError, keeping its per-field messages."""
        if hasattr(error, "error_dict"):
            fields = {name: [m for e in errors for m in e.messages] for name, errors in error.error_dict.items()}
            non_field = fields.pop("__all__", [])
            return cls(non_field[0] if non_field else None, fields=fields)
        return cls(error.messages[0] if error.messages else None, fields={})


class NotAllowed(ApplicationError):
    status = 403
    code = "permission_denied"
    default_message = _("Your role does not allow this.")


class NotFound(ApplicationError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Conflict(ApplicationError):
    status = 409
    code = "conflict"
    default_message = _("This is not possible in the current state.")


def text_input(value, name: str, errors: dict, *, required: str = "", max_length: int) -> str:
    """The stripped text of a free-text field; its problem, if any, added to `errors` under `name`.

    `required` is the message for a blank value (blank allowed without it);
    anything but a string (or None) is refused as not text.
    """
    if value is not None and not isinstance(value, str):
        errors.setdefault(name, []).append(_("Give text."))
        return ""
    text = (value or "").strip()
    if required and not text:
        errors.setdefault(name, []).append(required)
    elif len(text) > max_length:
        errors.setdefault(name, []).append(
            _("At most %(limit)d characters (this has %(count)d).") % {"limit": max_length, "count": len(text)}
        )
    return text
