"""Server-side validation of bpmn.io form-js forms (the `forms/` folder) and inline camunda:formData.

A user task names a form with `camunda:formKey="preview.form"`; `FormRegistry.get(key)` parses it
once, and `FormDefinition.validate(data, context)` returns the cleaned data or raises
`app.errors.InvalidForm`.
"""

from app.forms.camunda import form_from_camunda_fields
from app.forms.definition import FormDefinition, normalize_form_key, parse_form
from app.forms.model import FieldRules, FormDefinitionError, FormField, FormGroup
from app.forms.registry import FormRegistry

__all__ = [
    "FieldRules",
    "FormDefinition",
    "FormDefinitionError",
    "FormField",
    "FormGroup",
    "FormRegistry",
    "form_from_camunda_fields",
    "normalize_form_key",
    "parse_form",
]
