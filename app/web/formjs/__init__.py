"""form-js forms (the `forms/` folder) as server-rendered HTML, and HTML form posts back as form data.

`form_view` walks the form-js JSON and builds a `FormView` that the Jinja macro
`forms/formjs.html: render_form(view)` turns into labelled inputs; `parse_submission` turns
`request.form` into the nested data `FormDefinition.validate` expects. The server decides what is
valid and what is hidden; app/static/js/formjs.js only hides fields the simple FEEL conditions hide.

HTML names: a field's dotted key (`address.city`); dynamiclist rows `deficiencies-0-material`.
Error keys follow `InvalidForm.field_errors` ("deficiencies.0.material").
A radio or select whose form-js `properties` has `"outcome": "true"` is an outcome: one submit button
per value (`<button name="preview_result" value="correct">`) instead of a radio group.
"""

from .messages import localized
from .model import FieldView, FormView, Option, Outcome, RowView
from .render import answers, form_view, markdown, outcome_buttons, outcome_fields
from .submission import ACTIONS, ROW_MARK, parse_submission, rerender_values

__all__ = [
    "ACTIONS", "ROW_MARK", "FieldView", "FormView", "Option", "Outcome", "RowView", "answers", "form_view",
    "localized", "markdown", "outcome_buttons", "outcome_fields", "parse_submission", "rerender_values",
]
