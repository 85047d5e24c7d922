"""PPTX to PDF with LibreOffice headless, so the PDF is the deck's own pages."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def pptx_to_pdf(pptx: Path, pdf: Path, timeout: float = 180) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if not office:
        raise RuntimeError("LibreOffice is not installed (Debian package libreoffice-impress)")
    with tempfile.TemporaryDirectory(prefix="clinicops-office-") as tmp:
        # A profile of its own: a second LibreOffice on the machine (or a user's open one)
        # would otherwise take the conversion request and ignore our output folder.
        profile = Path(tmp) / "profile"
        subprocess.run(
            [
                office,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                tmp,
                str(pptx),
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        shutil.move(Path(tmp) / (pptx.stem + ".pdf"), pdf)
