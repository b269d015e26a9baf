"""The applicant portal: the service guide, drafts (暂存), submitting with materials, my cases,
resubmitting corrected materials (online, or at the window), public tracking (DB4201/T 571 §5.1.1.3)
and window intake; one module per aggregate, the public names all here."""

from app.services.portal.common import APPLICANT, MATERIAL, Upload
from app.services.portal.correction import (
    correction_form,
    resubmit,
    resubmit_at_window,
    resubmit_parts,
    window_correction,
)
from app.services.portal.drafts import (
    DraftNotFound,
    Saved,
    delete_draft,
    get_draft,
    list_drafts,
    remove_draft_file,
    save_draft,
    submit_draft,
)
from app.services.portal.guide import catalogue, group_items, item_guide, process_steps, process_xml
from app.services.portal.intake import WalkIn, window_intake
from app.services.portal.mycases import WITHDRAWABLE, my_case, my_cases
from app.services.portal.reuse import licence_offers
from app.services.portal.submission import Part, apply
from app.services.portal.tracking import RESULTS, track

__all__ = [
    "APPLICANT", "MATERIAL", "RESULTS", "WITHDRAWABLE", "DraftNotFound", "Part", "Saved", "Upload", "WalkIn", "apply",
    "catalogue", "licence_offers",
    "correction_form",
    "delete_draft", "get_draft", "group_items", "item_guide", "list_drafts", "my_case", "my_cases", "process_steps",
    "process_xml", "remove_draft_file", "resubmit", "resubmit_at_window", "resubmit_parts", "save_draft", "submit_draft",
    "track",
    "window_correction", "window_intake",
]
