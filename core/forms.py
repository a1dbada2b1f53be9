from django.core.exceptions import ValidationError


def add_action_errors(form, exc: ValidationError) -> None:
    """Show an action's field-level ``ValidationError`` on the form that fed it (fields the form
    does not have become non-field errors)."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)
