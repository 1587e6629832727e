"""Category presets (named offence groupings) and severity weights (a crime-harm index)."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple, Union

from . import _core
from ._incidents import Incidents

PathLike = Union[str, "os.PathLike[str]"]

SeverityWeights = _core.SeverityWeights


def preset_names() -> List[str]:
    """Names of the category presets, e.g. ``"police.uk:serious-violence"``."""
    return list(_core.preset_names())


def preset(name: str) -> Dict[str, Any]:
    """A preset as a dict: name, schema, column, categories, required_fields, description."""
    return _core.preset(name)


def preset_categories(name: str) -> List[str]:
    """The category values of a preset; raises InvalidInput for an unknown name (listing the known
    ones) or a requirement-only preset (naming the fields it needs)."""
    return list(_core.preset_categories(name))


def select_preset(incidents: Incidents, name: str) -> Incidents:
    """The incidents whose category is one of the preset's values."""
    return Incidents(_core.select_preset(incidents._core, name))


def read_severity_weights(path: PathLike) -> SeverityWeights:
    """A ``category,weight`` CSV (header required; '#' comments and blank lines skipped)."""
    return _core.read_severity_weights(os.fspath(path))


def apply_severity_weights(
    incidents: Incidents, weights: Union[SeverityWeights, PathLike], *, default_weight: Optional[float] = None
) -> Tuple[Incidents, Dict[str, Any]]:
    """A copy of ``incidents`` whose weights are multiplied by their category's weight, and a report
    (unweighted_categories, unweighted_incidents, uncategorised_incidents, unused_table_entries).
    Without ``default_weight`` an unlisted category raises InvalidInput."""
    if not isinstance(weights, SeverityWeights):
        weights = read_severity_weights(weights)
    core, report = _core.apply_severity_weights(
        incidents._core, weights, None if default_weight is None else float(default_weight)
    )
    return Incidents(core), report
