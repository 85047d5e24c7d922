"""Hand-written X12 835 files: an envelope with correct counts around the segments given."""

from __future__ import annotations

from pathlib import Path


def _isa(control: str) -> str:
    return (
        "ISA*00*          *00*          *ZZ*PAYERSENDER    *ZZ*CLINICRECEIVER "
        f"*260105*1200*^*00501*{control}*0*P*:"
    )


def remittance(
    claims: list[str],
    *,
    trace: str = "EFT1001",
    payer: str = "1512345678",
    payer_id: str = "PY1",
    paid: str = "100",
    posted: str = "20260120",
    plb: list[str] = (),
    control: str = "000000001",
) -> str:
    """One interchange with one 835 transaction set; `claims` are the 2100/2110 segments."""
    body = [
        "ST*835*0001",
        f"BPR*I*{paid}*C*ACH*CCP*01*999999999*DA*123456*{payer}**01*999988880*DA*98765*{posted}",
        f"TRN*1*{trace}*{payer}",
        f"DTM*405*{posted}",
        "N1*PR*ACME HEALTH",
        "N3*1 MAIN ST",
        "N4*TOWN*TX*75001",
        f"REF*2U*{payer_id}",
        "PER*BL*CLAIMS*TE*5555555555",
        "N1*PE*FAMILY CLINIC*XX*1234567893",
        "LX*1",
        *claims,
        *plb,
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    segments = [
        _isa(control),
        "GS*HP*PAYERSENDER*CLINICRECEIVER*20260105*1200*1*X*005010X221A1",
        *body,
        "GE*1*1",
        f"IEA*1*{control}",
    ]
    return "~\n".join(segments) + "~\n"


def patient(claim_id: str) -> str:
    """The patient segment of a claim (personal data the mapping must not carry on)."""
    return f"NM1*QC*1*SECRETNAME*ZEBULON****MI*MEMBER-{claim_id}"


def write(inbox: Path, name: str, text: str) -> Path:
    folder = inbox / "billing"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="ascii")
    return path
