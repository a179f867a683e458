"""The evidence dossier: one navigable PDF (and a ZIP) for the auditor and the commission."""

from .builder import DossierResult, build_dossier
from .options import DossierError, DossierOptions, DossierOptionsError

__all__ = ["DossierError", "DossierOptions", "DossierOptionsError", "DossierResult",
           "build_dossier"]
